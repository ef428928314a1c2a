"""String-to-sign builders against known answers (docs/protocol.md §8-§10)."""

from __future__ import annotations

import hashlib

from ayolinx_async.signing import (
    body_digest,
    callback_string_to_sign,
    hmac_signature,
    service_string_to_sign,
    token_string_to_sign,
)

# The worked example in docs/protocol.md §9 (computed independently when the spec was written).
EXAMPLE_BODY = (
    b'{"partnerReferenceNo":"ORDER-0001","amount":{"currency":"IDR","value":"10000.00"},'
    b'"additionalInfo":{"channel":"BNC_QRIS"}}'
)
EXAMPLE_TS = "2024-09-12T12:55:00+07:00"


def test_body_digest_is_lowercase_hex_sha256_of_the_bytes() -> None:
    digest = body_digest(EXAMPLE_BODY)
    assert digest == "2962ef953503cc7ce3dcab09087aaedf6abca0111beafe2286347e234f2b3aae"
    assert digest == digest.lower()


def test_empty_body_hashes_zero_bytes() -> None:
    assert body_digest(b"") == hashlib.sha256(b"").hexdigest()
    assert body_digest(b"").startswith("e3b0c442")


def test_token_string_is_client_key_pipe_timestamp() -> None:
    assert token_string_to_sign("CK-1", EXAMPLE_TS) == "CK-1|2024-09-12T12:55:00+07:00"


def test_service_string_field_order_and_known_signature() -> None:
    sts = service_string_to_sign(
        "post", "/v1.0/qr/qr-mpm-generate", "EXAMPLE_ACCESS_TOKEN", EXAMPLE_BODY, EXAMPLE_TS
    )
    # method:path:token:bodyhash:timestamp — token BEFORE the body hash (docs/protocol.md §9).
    assert sts == (
        "POST:/v1.0/qr/qr-mpm-generate:EXAMPLE_ACCESS_TOKEN:"
        "2962ef953503cc7ce3dcab09087aaedf6abca0111beafe2286347e234f2b3aae:"
        "2024-09-12T12:55:00+07:00"
    )
    signature = hmac_signature("EXAMPLE_CLIENT_SECRET", sts)
    assert signature == (
        "aEMWSwolVklTwXp/oSt8xtTZQcTSN0F2PEb1hyDkykvvhtpT+ONl8c0RKo2B+5ic0O1N+HjQcwiql4kji187jg=="
    )
    assert len(signature) == 88


def test_service_string_keeps_query_string_in_path() -> None:
    sts = service_string_to_sign("POST", "/v1.0/x?a=1", "T", b"", EXAMPLE_TS)
    assert sts.startswith("POST:/v1.0/x?a=1:T:e3b0c442")


def test_callback_string_has_no_token() -> None:
    sts = callback_string_to_sign("POST", "/hooks/ayolinx", b"{}", EXAMPLE_TS)
    assert sts == f"POST:/hooks/ayolinx:{hashlib.sha256(b'{}').hexdigest()}:{EXAMPLE_TS}"

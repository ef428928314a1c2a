"""Property tests (hypothesis): canonical body encoding, amount rendering, and tamper evidence of
every signature scheme under any single-byte change to the body, the signature or the timestamp.
"""

from __future__ import annotations

import base64
import binascii
import json
import string
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ayolinx_async import BodyEncoding, ValidationError
from ayolinx_async._wire import encode_body, format_timestamp
from ayolinx_async.callbacks._verify import CallbackRejected, CallbackVerifier
from ayolinx_async.models._common import Amount
from ayolinx_async.signing import (
    body_digest,
    callback_string_to_sign,
    hmac_signature,
    rsa_signature,
    service_string_to_sign,
    token_string_to_sign,
    verify_hmac,
    verify_rsa,
)
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

NOW = 1_726_120_500.0
SLOW = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FAST = settings(max_examples=300, deadline=None)
ENCODING = settings(max_examples=100, deadline=None)

# -- canonical encoding ----------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)
_bodies = st.dictionaries(st.text(), _json, max_size=8)


@ENCODING
@given(body=_bodies, encoding=st.sampled_from(list(BodyEncoding)))
def test_encoding_round_trips_and_keeps_field_order(
    body: dict[str, Any], encoding: BodyEncoding
) -> None:
    raw = encode_body(body, encoding)
    assert json.loads(raw) == body
    assert list(json.loads(raw)) == list(body)
    assert encode_body(body, encoding) == raw  # deterministic: the same bytes are signed
    assert encode_body(raw, encoding) == raw  # bytes pass through untouched
    assert len(body_digest(raw)) == 64


@ENCODING
@given(body=_bodies)
def test_compact_encoding_is_exactly_compact_utf8(body: dict[str, Any]) -> None:
    raw = encode_body(body, BodyEncoding.COMPACT)
    assert raw == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw.decode("utf-8")  # always valid UTF-8 (no lone surrogates sneak in unescaped)


@ENCODING
@given(body=_bodies)
def test_php_encoding_is_ascii_with_escaped_slashes(body: dict[str, Any]) -> None:
    raw = encode_body(body, BodyEncoding.PHP)
    text = raw.decode("ascii")
    assert "/" not in text.replace("\\/", "")
    assert json.loads(raw) == body


@pytest.mark.parametrize(
    "body",
    [{"a": "\ud800"}, {"amount": Decimal("1.00")}, {"x": float("nan")}],
    ids=["lone-surrogate", "decimal", "nan"],
)
def test_unencodable_bodies_are_refused_with_a_typed_error(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        encode_body(body)
    assert info.value.field == "body"


# -- amounts ---------------------------------------------------------------------------------

_amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("9999999999999.99"), places=2
).filter(lambda d: d.is_finite())


@FAST
@given(value=_amounts, form=st.sampled_from(["decimal", "str", "int"]))
def test_amount_renders_two_decimals_and_round_trips(value: Decimal, form: str) -> None:
    if form == "int":
        value = value.to_integral_value(rounding=ROUND_DOWN) or Decimal(1)
        given_value: object = int(value)
    elif form == "str":
        given_value = str(value)
    else:
        given_value = value
    wire = Amount.of(given_value).to_wire()
    assert wire["currency"] == "IDR"
    whole, _, cents = wire["value"].partition(".")
    assert whole.isdigit()
    assert len(cents) == 2
    assert cents.isdigit()
    assert whole == "0" or not whole.startswith("0")
    assert Decimal(wire["value"]) == value
    back = Amount.from_wire(wire)
    assert back is not None
    assert back.value == value
    assert back.to_wire() == wire


@FAST
@given(
    value=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**12), places=3).filter(
        lambda d: d % Decimal("0.01") != 0
    )
)
def test_amount_with_more_than_two_decimals_is_refused_naming_the_field(value: Decimal) -> None:
    with pytest.raises(ValidationError) as info:
        Amount.of(value)
    assert info.value.field == "amount.value"


@FAST
@given(value=st.decimals(max_value=Decimal(0), allow_nan=False, places=2))
def test_zero_and_negative_amounts_are_refused(value: Decimal) -> None:
    with pytest.raises(ValidationError) as info:
        Amount.of(value)
    assert info.value.field == "amount.value"


@pytest.mark.parametrize(
    ("value", "wire"),
    [(Decimal("1E+3"), "1000.00"), ("10000", "10000.00"), (1, "1.00"), ("0.5", "0.50")],
)
def test_amount_never_uses_scientific_notation(value: object, wire: str) -> None:
    assert Amount.of(value).to_wire()["value"] == wire


# -- tamper evidence -------------------------------------------------------------------------

_B64 = string.ascii_letters + string.digits + "+/="


def _flip_byte(data: bytes, index: int, value: int) -> bytes:
    index %= len(data)
    assume(data[index] != value)
    return data[:index] + bytes([value]) + data[index + 1 :]


def _flip_char(text: str, index: int, char: str) -> str:
    index %= len(text)
    assume(text[index] != char)
    return text[:index] + char + text[index + 1 :]


_body_bytes = st.binary(min_size=1, max_size=300)
_offsets = st.integers(min_value=0, max_value=10_000)
_byte = st.integers(min_value=0, max_value=255)
_b64_char = st.sampled_from(_B64)
_moments = st.floats(min_value=1.6e9, max_value=2.2e9)
_timestamp_char = st.sampled_from(string.digits + "-:T+Z ")


@FAST
@given(body=_body_bytes, offset=_offsets, value=_byte, moment=_moments)
def test_service_hmac_rejects_any_changed_body_byte(
    body: bytes, offset: int, value: int, moment: float
) -> None:
    ts = format_timestamp(moment)
    signature = hmac_signature(
        CLIENT_SECRET, service_string_to_sign("POST", "/v1.0/qr/qr-mpm-query", "tok", body, ts)
    )
    tampered = _flip_byte(body, offset, value)
    message = service_string_to_sign("POST", "/v1.0/qr/qr-mpm-query", "tok", tampered, ts)
    assert not verify_hmac(CLIENT_SECRET, message, signature)


@FAST
@given(body=_body_bytes, offset=_offsets, char=_b64_char, moment=_moments)
def test_service_hmac_rejects_any_changed_signature_character(
    body: bytes, offset: int, char: str, moment: float
) -> None:
    ts = format_timestamp(moment)
    message = service_string_to_sign("POST", "/v1.0/qr/qr-mpm-query", "tok", body, ts)
    signature = hmac_signature(CLIENT_SECRET, message)
    assert verify_hmac(CLIENT_SECRET, message, signature)
    assert not verify_hmac(CLIENT_SECRET, message, _flip_char(signature, offset, char))


@FAST
@given(body=_body_bytes, offset=_offsets, char=_timestamp_char, moment=_moments)
def test_service_hmac_rejects_any_changed_timestamp_character(
    body: bytes, offset: int, char: str, moment: float
) -> None:
    ts = format_timestamp(moment)
    signature = hmac_signature(CLIENT_SECRET, service_string_to_sign("POST", "/p", "tok", body, ts))
    message = service_string_to_sign("POST", "/p", "tok", body, _flip_char(ts, offset, char))
    assert not verify_hmac(CLIENT_SECRET, message, signature)


@SLOW
@given(offset=_offsets, char=_timestamp_char, moment=_moments)
def test_token_signature_rejects_any_changed_timestamp_character(
    merchant_key: rsa.RSAPrivateKey, offset: int, char: str, moment: float
) -> None:
    ts = format_timestamp(moment)
    signature = rsa_signature(merchant_key, token_string_to_sign(CLIENT_KEY, ts))
    tampered = token_string_to_sign(CLIENT_KEY, _flip_char(ts, offset, char))
    assert not verify_rsa(merchant_key.public_key(), tampered, signature)


@pytest.fixture(scope="module")
def signed_callback(ayolinx_key: rsa.RSAPrivateKey) -> tuple[bytes, str, str]:
    body = (
        b'{"originalPartnerReferenceNo":"ORD-1","originalReferenceNo":"AYO-1",'
        b'"latestTransactionStatus":"00","amount":{"value":"10000.00","currency":"IDR"}}'
    )
    ts = format_timestamp(NOW)
    signature = rsa_signature(ayolinx_key, callback_string_to_sign("POST", "/hook", body, ts))
    return body, ts, signature


def _verifier(ayolinx_key: rsa.RSAPrivateKey) -> CallbackVerifier:
    return CallbackVerifier(ayolinx_key.public_key(), clock=lambda: NOW)


def _verify(verifier: CallbackVerifier, body: bytes, ts: str, signature: str) -> bool:
    try:
        verifier.verify_notification(
            path="/hook", headers={"X-TIMESTAMP": ts, "X-SIGNATURE": signature}, body=body
        )
    except CallbackRejected:
        return False
    return True


@SLOW
@given(offset=_offsets, value=_byte)
def test_callback_rejects_any_changed_body_byte(
    ayolinx_key: rsa.RSAPrivateKey, signed_callback: tuple[bytes, str, str], offset: int, value: int
) -> None:
    body, ts, signature = signed_callback
    verifier = _verifier(ayolinx_key)
    assert _verify(verifier, body, ts, signature)
    assert not _verify(verifier, _flip_byte(body, offset, value), ts, signature)


@SLOW
@given(offset=_offsets, char=_timestamp_char)
def test_callback_rejects_any_changed_timestamp_character(
    ayolinx_key: rsa.RSAPrivateKey, signed_callback: tuple[bytes, str, str], offset: int, char: str
) -> None:
    body, ts, signature = signed_callback
    assert not _verify(_verifier(ayolinx_key), body, _flip_char(ts, offset, char), signature)


def _decodes_to(text: str, raw: bytes) -> bool:
    try:
        return base64.b64decode(text, validate=True) == raw
    except binascii.Error:
        return False


def _last_quantum_twin(signature: str) -> str:
    """The signature with its last base64 digit changed in the bits base64 leaves unused
    (a 256-byte RSA signature ends in ``X==``, and only 2 of X's 6 bits carry data)."""
    index = len(signature.rstrip("=")) - 1
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    digit = alphabet.index(signature[index])
    twin = alphabet[digit ^ 0b0001]
    return signature[:index] + twin + signature[index + 1 :]


def test_callback_rejects_a_non_canonical_signature(
    ayolinx_key: rsa.RSAPrivateKey, signed_callback: tuple[bytes, str, str]
) -> None:
    body, ts, signature = signed_callback
    twin = _last_quantum_twin(signature)
    assert twin != signature
    assert base64.b64decode(twin) == base64.b64decode(signature)
    assert not _verify(_verifier(ayolinx_key), body, ts, twin)


@SLOW
@given(offset=_offsets, char=_b64_char)
def test_callback_rejects_any_changed_signature_character(
    ayolinx_key: rsa.RSAPrivateKey, signed_callback: tuple[bytes, str, str], offset: int, char: str
) -> None:
    body, ts, signature = signed_callback
    tampered = _flip_char(signature, offset, char)
    # Changes confined to base64's unused bits are checked separately above.
    assume(not _decodes_to(tampered, base64.b64decode(signature)))
    assert not _verify(_verifier(ayolinx_key), body, ts, tampered)


@SLOW
@given(offset=st.integers(min_value=0, max_value=255), value=_byte)
def test_callback_rejects_any_changed_signature_byte(
    ayolinx_key: rsa.RSAPrivateKey, signed_callback: tuple[bytes, str, str], offset: int, value: int
) -> None:
    body, ts, signature = signed_callback
    raw = _flip_byte(base64.b64decode(signature), offset, value)
    assert not _verify(_verifier(ayolinx_key), body, ts, base64.b64encode(raw).decode())

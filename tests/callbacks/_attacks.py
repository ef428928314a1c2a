"""The notify attack matrix: each builder returns a (path, headers, body) Ayolinx never sent,
aimed at the notify endpoint served at ``path``."""

from __future__ import annotations

import json
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import rsa

from ._helpers import NOTIFY_PATH, FakeClock, encode, notify_headers, qris_body

__all__ = ["NOTIFY_ATTACKS", "Attack", "Request", "bad_signature", "signed"]

Request = tuple[str, dict[str, str], bytes]
Attack = Callable[[rsa.RSAPrivateKey, FakeClock, str], Request]


def signed(
    key: rsa.RSAPrivateKey,
    clock: FakeClock,
    path: str = NOTIFY_PATH,
    *,
    signed_path: str | None = None,
    method: str = "POST",
) -> Request:
    """A valid notify for ``path`` (or signed for ``signed_path`` / ``method`` instead)."""
    body = qris_body()
    headers = notify_headers(key, body, clock.stamp(), path=signed_path or path, method=method)
    return path, headers, body


def _signed_body(
    key: rsa.RSAPrivateKey, clock: FakeClock, path: str, body: bytes, offset: float = 0
) -> Request:
    return path, notify_headers(key, body, clock.stamp(offset), path=path), body


def bad_signature(key: rsa.RSAPrivateKey, clock: FakeClock, path: str = NOTIFY_PATH) -> Request:
    path, headers, body = signed(key, clock, path)
    headers["X-SIGNATURE"] = headers["X-SIGNATURE"][:-8] + "AAAAAAA="
    return path, headers, body


def _garbage_signature(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    path, headers, body = signed(key, clock, path)
    headers["X-SIGNATURE"] = "not base64 at all!"
    return path, headers, body


def _other_key(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return signed(stranger, clock, path)


def _one_byte_changed(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    path, headers, body = signed(key, clock, path)
    tampered = body.replace(b'"20000.00"', b'"20000.01"', 1)
    assert len(tampered) == len(body)
    assert tampered != body
    return path, headers, tampered


def _reserialised(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    path, headers, body = signed(key, clock, path)
    return path, headers, json.dumps(json.loads(body), indent=1).encode()


def _stale(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return _signed_body(key, clock, path, qris_body(), -3601)


def _future(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return _signed_body(key, clock, path, qris_body(), +3601)


def _naive_timestamp(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    body = qris_body()
    return path, notify_headers(key, body, clock.stamp()[:-6], path=path), body


def _documented_path(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    # Signed for Ayolinx's documented label, delivered to our own URL
    # (docs/protocol.md §10.1 reversed).
    return signed(key, clock, path, signed_path="/v1.0/qr/qr-mpm-notify")


def _wrong_method_signed(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return signed(key, clock, path, method="PUT")


def _without(name: str) -> Attack:
    def attack(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
        path, headers, body = signed(key, clock, path)
        del headers[name]
        return path, headers, body

    return attack


def _not_json(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return _signed_body(key, clock, path, b"<xml>not json</xml>")


def _json_array(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return _signed_body(key, clock, path, b"[1,2,3]")


def _no_status(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    body = encode({"originalReferenceNo": "R1", "amount": {"value": "1.00", "currency": "IDR"}})
    return _signed_body(key, clock, path, body)


def _no_reference(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return _signed_body(key, clock, path, encode({"latestTransactionStatus": "00"}))


def _oversized(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    body = encode(
        {"latestTransactionStatus": "00", "originalReferenceNo": "R", "pad": "x" * 70_000}
    )
    return _signed_body(key, clock, path, body)


def _duplicate_signature_header(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    path, headers, body = signed(key, clock, path)
    headers["x-signature"] = headers["X-SIGNATURE"]
    return path, headers, body


def _unknown_path(key: rsa.RSAPrivateKey, clock: FakeClock, path: str) -> Request:
    return _signed_body(key, clock, "/somewhere/else", qris_body())


NOTIFY_ATTACKS: list[tuple[str, Attack, int, str]] = [
    ("bad-signature", bad_signature, 401, "4015600"),
    ("garbage-signature", _garbage_signature, 401, "4015600"),
    ("signed-by-another-key", _other_key, 401, "4015600"),
    ("one-byte-of-body-changed", _one_byte_changed, 401, "4015600"),
    ("body-re-serialised", _reserialised, 401, "4015600"),
    ("stale-timestamp", _stale, 401, "4015600"),
    ("future-timestamp", _future, 401, "4015600"),
    ("timestamp-without-offset", _naive_timestamp, 400, "4005601"),
    ("signed-for-documented-path", _documented_path, 401, "4015600"),
    ("signed-for-another-method", _wrong_method_signed, 401, "4015600"),
    ("missing-signature", _without("X-SIGNATURE"), 400, "4005602"),
    ("missing-timestamp", _without("X-TIMESTAMP"), 400, "4005602"),
    ("repeated-signature-header", _duplicate_signature_header, 400, "4005601"),
    ("non-json-body", _not_json, 400, "4005601"),
    ("json-array-body", _json_array, 400, "4005601"),
    ("missing-status", _no_status, 400, "4005602"),
    ("missing-reference", _no_reference, 400, "4005602"),
    ("oversized-body", _oversized, 413, "4135600"),
    ("unknown-path", _unknown_path, 404, "4040002"),
]

"""Signature verification helpers (RSA SHA256withRSA and HMAC), constant time where it matters."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["hmac_signature", "rsa_signature", "verify_hmac", "verify_rsa"]

_HMAC_DIGESTS = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}


@functools.cache
def rsa_parameters() -> tuple[Any, Any, type[Exception]]:
    """PKCS#1 v1.5, SHA-256 and ``InvalidSignature``, built once on first use: importing
    cryptography costs a fifth of ``import httpx``, and ``import ayolinx_async`` should not
    pay it before a key is loaded (issue 15)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256(), InvalidSignature


def rsa_signature(key: rsa.RSAPrivateKey, message: str) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) over the UTF-8 message."""
    pkcs1, sha256, _ = rsa_parameters()
    raw = key.sign(message.encode("utf-8"), pkcs1, sha256)
    return base64.b64encode(raw).decode("ascii")


def hmac_signature(secret: str | bytes, message: str, algorithm: str = "sha512") -> str:
    """Base64 HMAC (SHA-512 by default) over the UTF-8 message."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, message.encode("utf-8"), _HMAC_DIGESTS[algorithm]).digest()
    return base64.b64encode(mac).decode("ascii")


#: Base64 digits whose unused low bits are zero, for the digit before ``==`` (4 unused bits)
#: and before ``=`` (2 unused bits): the only digits a canonical encoder writes there.
_CANONICAL_LAST = (frozenset(b"AQgw"), frozenset(b"AEIMQUYcgkosw048"))


def _b64decode(signature: str) -> bytes | None:
    """Decode canonical base64 only: base64 ignores the unused low bits of the digit before the
    padding, so without that check several strings would verify as one signature
    (malleability). Strict mode refuses the other non-canonical forms but one."""
    try:
        text = signature.strip().encode("ascii")
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if len(text) % 4:  # strict mode still accepts padding after a complete quantum
        return None
    if text.endswith(b"="):
        two = text.endswith(b"==")
        if text[-3 if two else -2] not in _CANONICAL_LAST[0 if two else 1]:
            return None
    return raw


def verify_rsa(key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    """True if ``signature`` (base64) is a valid SHA256withRSA signature of ``message``."""
    raw = _b64decode(signature)
    if raw is None:
        return False
    pkcs1, sha256, invalid = rsa_parameters()
    try:
        key.verify(raw, message.encode("utf-8"), pkcs1, sha256)
    except invalid:
        return False
    return True


def verify_hmac(
    secret: str | bytes, message: str, signature: str, algorithm: str = "sha512"
) -> bool:
    """Constant-time check of a base64 HMAC signature."""
    expected = hmac_signature(secret, message, algorithm)
    return hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "replace")
    )

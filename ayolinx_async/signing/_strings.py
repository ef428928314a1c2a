"""Pure string-to-sign builders for the three Ayolinx signature schemes
(docs/protocol.md §8-§10)."""

from __future__ import annotations

import hashlib

__all__ = [
    "body_digest",
    "callback_string_to_sign",
    "service_string_to_sign",
    "token_string_to_sign",
]


def body_digest(body: bytes) -> str:
    """Lowercase hex SHA-256 of the exact body bytes (an empty body hashes zero bytes)."""
    return hashlib.sha256(body).hexdigest()


def token_string_to_sign(client_key: str, timestamp: str) -> str:
    """Access-token request (docs/protocol.md §8): ``clientKey|X-TIMESTAMP``, signed
    SHA256withRSA."""
    return f"{client_key}|{timestamp}"


def service_string_to_sign(
    method: str, path: str, access_token: str, body: bytes, timestamp: str
) -> str:
    """Service call (docs/protocol.md §9): ``METHOD:path:accessToken:sha256hex(body):X-TIMESTAMP``.

    ``path`` is the path only (query string included if the request has one); the token is raw,
    without ``Bearer``. Signed with HMAC-SHA512 keyed by the client secret.
    """
    return _service_string(method, path, access_token, body_digest(body), timestamp)


def _service_string(method: str, path: str, access_token: str, digest: str, timestamp: str) -> str:
    """The service string from a precomputed body digest (the client hashes a body once)."""
    return f"{method.upper()}:{path}:{access_token}:{digest}:{timestamp}"


def callback_string_to_sign(method: str, path: str, body: bytes, timestamp: str) -> str:
    """Callback from Ayolinx (docs/protocol.md §10.1):
    ``METHOD:path:sha256hex(raw body):X-TIMESTAMP``.

    ``path`` is the merchant's own callback path, not the documented Ayolinx label
    (docs/protocol.md §10.1).
    """
    return f"{method.upper()}:{path}:{body_digest(body)}:{timestamp}"

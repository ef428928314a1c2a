"""Shared token stores: one Ayolinx token per (base URL, client key) across clients/processes.

A store holds the token and a short refresh lock, so that of many processes only one asks
Ayolinx for a new token while the others wait and pick it up (docs/architecture.md §5.2).
The in-memory store shares a token between clients in one process; ``contrib.redis`` shares
it between processes and hosts.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from .token import AccessToken

__all__ = ["MemoryTokenStore", "TokenStore", "token_from_dict", "token_store_key", "token_to_dict"]


def token_store_key(base_url: str, client_key: str) -> str:
    """A stable, short key naming one merchant on one host."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}|{client_key}".encode()).hexdigest()
    return digest[:32]


def token_to_dict(token: AccessToken) -> dict[str, Any]:
    """Plain-data form of a token for a store (epoch seconds)."""
    return {
        "value": token.value,
        "token_type": token.token_type,
        "issued_at": token.issued_at.timestamp(),
        "expires_at": token.expires_at.timestamp(),
    }


def token_from_dict(data: dict[str, Any]) -> AccessToken:
    """Inverse of :func:`token_to_dict`."""
    return AccessToken(
        value=str(data["value"]),
        token_type=str(data.get("token_type") or "Bearer"),
        issued_at=datetime.fromtimestamp(float(data["issued_at"]), UTC),
        expires_at=datetime.fromtimestamp(float(data["expires_at"]), UTC),
    )


@runtime_checkable
class TokenStore(Protocol):
    """Where shared tokens live. Every method may raise; the cache then falls back to fetching
    locally, so a store outage never fails a payment."""

    async def load(self, key: str) -> AccessToken | None:
        """The stored token, or ``None``."""
        ...

    async def save(self, key: str, token: AccessToken) -> None:
        """Store ``token`` until it expires."""
        ...

    async def discard(self, key: str, value: str) -> None:
        """Delete the stored token only if its value is ``value`` (it was rejected)."""
        ...

    async def acquire(self, key: str, ttl: float) -> str | None:
        """Take the refresh lock for ``ttl`` seconds; a lock id, or ``None`` if it is held."""
        ...

    async def release(self, key: str, lock_id: str) -> None:
        """Release the lock if ``lock_id`` still holds it."""
        ...


class MemoryTokenStore:
    """A process-local store: lets several clients (or ``with_options`` views) share a token."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._locks: dict[str, tuple[str, float]] = {}

    async def load(self, key: str) -> AccessToken | None:
        token = self._tokens.get(key)
        if token is not None and token.expires_at.timestamp() <= self._clock():
            del self._tokens[key]
            return None
        return token

    async def save(self, key: str, token: AccessToken) -> None:
        self._tokens[key] = token

    async def discard(self, key: str, value: str) -> None:
        token = self._tokens.get(key)
        if token is not None and token.value == value:
            del self._tokens[key]

    async def acquire(self, key: str, ttl: float) -> str | None:
        held = self._locks.get(key)
        now = self._clock()
        if held is not None and held[1] > now:
            return None
        lock_id = secrets.token_hex(16)
        self._locks[key] = (lock_id, now + ttl)
        return lock_id

    async def release(self, key: str, lock_id: str) -> None:
        held = self._locks.get(key)
        if held is not None and held[0] == lock_id:
            del self._locks[key]

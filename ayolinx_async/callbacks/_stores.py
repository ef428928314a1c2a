"""Storage behind the merchant side: issued tokens and callback deduplication.

Both are protocols with async methods so several processes can share one backend. Each method
maps onto one Redis command (given in its docstring); the in-memory defaults serve a single
process. Methods of the memory stores never await, so each one is atomic on its event loop.

Several merchants may share one backend (one Redis, one default prefix): the handler reaches its
stores through a namespace derived from its client key (:func:`namespace_for`), so merchant B's
callbacks and tokens never meet merchant A's keys.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

__all__ = [
    "DEDUPE_DONE",
    "DedupeStore",
    "IssuedTokenStore",
    "MemoryDedupeStore",
    "MemoryIssuedTokenStore",
    "NamespacedDedupeStore",
    "namespace_for",
]

#: The value a dedupe key holds once its callback was processed successfully.
DEDUPE_DONE: Final = "done"


@runtime_checkable
class IssuedTokenStore(Protocol):
    """Where the merchant's issued access tokens live (keys are token digests, never tokens)."""

    async def set(self, key: str, value: str, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``SET key value PX ttl*1000``)."""
        ...

    async def get(self, key: str) -> str | None:
        """The live value of ``key`` or ``None`` if absent or expired (``GET key``)."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (``DEL key``)."""
        ...


@runtime_checkable
class DedupeStore(Protocol):
    """Remembers which callbacks are being processed or are done, across processes.

    A key is absent (never seen, or released after a failure), held by an owner (being
    processed; the lease expires so a crashed worker cannot block redelivery forever), or
    :data:`DEDUPE_DONE`.
    """

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        """Atomically set ``key`` to ``owner`` if absent; True if this call set it
        (``SET key owner NX PX ttl*1000``)."""
        ...

    async def get(self, key: str) -> str | None:
        """The current value of ``key``: an owner, :data:`DEDUPE_DONE` or ``None`` (``GET``)."""
        ...

    async def complete(self, key: str, ttl: float) -> None:
        """Mark ``key`` done for ``ttl`` seconds (``SET key done PX ttl*1000``)."""
        ...

    async def release(self, key: str, owner: str) -> None:
        """Delete ``key`` only if it still holds ``owner`` (compare-and-delete; a short Lua
        script in Redis) so a late failure cannot free a key someone else has claimed."""
        ...

    async def extend(self, key: str, owner: str, ttl: float) -> bool:
        """Renew ``owner``'s lease on ``key`` for ``ttl`` seconds if it still holds it
        (compare-and-``PEXPIRE``); False if the lease was lost. Keeps a slow listener's claim
        alive so a redelivery cannot run it a second time."""
        ...


class _ExpiringDict:
    """A dict whose entries expire by an injectable clock; swept lazily, at most once a minute."""

    __slots__ = ("_clock", "_data", "_next_sweep")

    _SWEEP_EVERY = 60.0

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._data: dict[str, tuple[str, float]] = {}
        self._next_sweep = 0.0

    def get(self, key: str) -> str | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._data[key]
            return None
        return entry[0]

    def set(self, key: str, value: str, ttl: float) -> None:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        self._data[key] = (value, now + ttl)

    def add(self, key: str, value: str, ttl: float) -> bool:
        """Set ``key`` unless it holds a live entry; True if this call set it. One clock
        reading, where ``get`` then ``set`` took two (issue 15)."""
        now = self._clock()
        entry = self._data.get(key)
        if entry is not None and entry[1] > now:
            return False
        if now >= self._next_sweep:
            self._sweep(now)
        self._data[key] = (value, now + ttl)
        return True

    def _sweep(self, now: float) -> None:
        self._data = {k: v for k, v in self._data.items() if v[1] > now}
        self._next_sweep = now + self._SWEEP_EVERY

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        now = self._clock()
        return sum(1 for _, expires in self._data.values() if expires > now)


def _check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError("ttl must be a positive number of seconds")


class MemoryIssuedTokenStore:
    """Single-process :class:`IssuedTokenStore`; ``clock`` returns epoch seconds."""

    __slots__ = ("_entries",)

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._entries = _ExpiringDict(clock)

    def __repr__(self) -> str:
        return f"<MemoryIssuedTokenStore live={len(self._entries)}>"

    def __len__(self) -> int:
        return len(self._entries)

    async def set(self, key: str, value: str, ttl: float) -> None:
        _check_ttl(ttl)
        self._entries.set(key, value, ttl)

    async def get(self, key: str) -> str | None:
        return self._entries.get(key)

    async def delete(self, key: str) -> None:
        self._entries.delete(key)


class MemoryDedupeStore:
    """Single-process :class:`DedupeStore`; ``clock`` returns epoch seconds."""

    __slots__ = ("_entries",)

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._entries = _ExpiringDict(clock)

    def __repr__(self) -> str:
        return f"<MemoryDedupeStore live={len(self._entries)}>"

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        _check_ttl(ttl)
        return self._entries.add(key, owner, ttl)

    async def get(self, key: str) -> str | None:
        return self._entries.get(key)

    async def complete(self, key: str, ttl: float) -> None:
        _check_ttl(ttl)
        self._entries.set(key, DEDUPE_DONE, ttl)

    async def release(self, key: str, owner: str) -> None:
        if self._entries.get(key) == owner:
            self._entries.delete(key)

    async def extend(self, key: str, owner: str, ttl: float) -> bool:
        _check_ttl(ttl)
        if self._entries.get(key) != owner:
            return False
        self._entries.set(key, owner, ttl)
        return True


def direct_entries(store: DedupeStore) -> _ExpiringDict | None:
    """The entries of a plain :class:`MemoryDedupeStore`, whose methods never await, so a
    caller may use them without a coroutine per call (issue 15); ``None`` for any other store,
    a subclass included (its overrides are honoured)."""
    if type(store) is MemoryDedupeStore:
        return store._entries
    return None


def namespace_for(client_key: str) -> str:
    """The default key namespace of a merchant: 16 hex digits of SHA-256 over its client key
    (a digest, so store keys never show the client key itself)."""
    return hashlib.sha256(client_key.encode("utf-8")).hexdigest()[:16]


def namespaced(namespace: str, key: str) -> str:
    """``<namespace>:<key>``, or ``key`` unchanged for the empty namespace (shared keys)."""
    return f"{namespace}:{key}" if namespace else key


class NamespacedDedupeStore:
    """A :class:`DedupeStore` view that prefixes every key with ``<namespace>:``.

    The handler reaches its dedupe store through this view, so two merchants sharing one
    backend never acknowledge each other's callbacks as duplicates (issue 12 §6).
    """

    __slots__ = ("_inner", "_namespace")

    def __init__(self, inner: DedupeStore, namespace: str) -> None:
        self._inner = inner
        self._namespace = namespace

    def __repr__(self) -> str:
        return f"<NamespacedDedupeStore namespace={self._namespace!r} store={self._inner!r}>"

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def inner(self) -> DedupeStore:
        """The store underneath (keys as written there carry the namespace)."""
        return self._inner

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        return await self._inner.claim(namespaced(self._namespace, key), owner, ttl)

    async def get(self, key: str) -> str | None:
        return await self._inner.get(namespaced(self._namespace, key))

    async def complete(self, key: str, ttl: float) -> None:
        await self._inner.complete(namespaced(self._namespace, key), ttl)

    async def release(self, key: str, owner: str) -> None:
        await self._inner.release(namespaced(self._namespace, key), owner)

    async def extend(self, key: str, owner: str, ttl: float) -> bool:
        return await self._inner.extend(namespaced(self._namespace, key), owner, ttl)

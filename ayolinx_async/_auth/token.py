"""Access tokens and the single-flight token cache (design §3 "Token cache").

Fresh token: returned without taking a lock. Stale or missing: one coroutine fetches under an
``anyio.Lock`` while the others wait and reuse its result, so a cold start with thousands of
concurrent calls makes exactly one token request. With a shared :class:`~.stores.TokenStore`
the same holds across processes: the refresher takes the store's lock, the others poll the store.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio
import attrs

__all__ = ["AccessToken", "RefreshPolicy", "TokenCache"]

from .._log import logger

if TYPE_CHECKING:
    from .._telemetry import Telemetry
    from ..transport._base import Timeout
    from .stores import TokenStore


@attrs.frozen(kw_only=True, slots=True, repr=False)
class AccessToken:
    """A B2B access token. ``value`` is never shown in ``repr``/``str``."""

    value: str
    expires_at: datetime
    issued_at: datetime
    token_type: str = "Bearer"

    @classmethod
    def from_lifetime(
        cls, value: str, expires_in: float, issued_at: float, token_type: str = "Bearer"
    ) -> AccessToken:
        return cls(
            value=value,
            token_type=token_type,
            issued_at=datetime.fromtimestamp(issued_at, UTC),
            expires_at=datetime.fromtimestamp(issued_at + expires_in, UTC),
        )

    @property
    def lifetime(self) -> float:
        """Seconds between issue and expiry."""
        return (self.expires_at - self.issued_at).total_seconds()

    def __repr__(self) -> str:
        return f"AccessToken(value=***, expires_at={self.expires_at.isoformat()})"

    __str__ = __repr__


@attrs.frozen(kw_only=True, slots=True)
class RefreshPolicy:
    """When to refresh before expiry: ``ratio`` of the lifetime, capped at ``max_margin`` seconds.

    A 900 s token refreshes 60 s early, a 30 s token 3 s early. After a failed early refresh
    the old token is served and a new attempt is made at most every ``retry_interval`` seconds.
    """

    ratio: float = 0.1
    max_margin: float = 60.0
    retry_interval: float = 5.0
    #: Shared store only: how long a refresh lock lives if its holder dies, how often waiters
    #: poll the store, and how long they wait before fetching locally.
    lock_ttl: float = 15.0
    poll_interval: float = 0.05
    lock_wait: float = 10.0

    def margin(self, lifetime: float) -> float:
        return max(0.0, min(self.max_margin, lifetime * self.ratio))


@attrs.define(slots=True)
class _Entry:
    token: AccessToken
    expires_at: float  # epoch seconds, from the cache's clock
    refresh_at: float


class TokenCache:
    """Caches one token and refreshes it single-flight.

    ``fetch(timeout)`` performs the token request (e.g. a :class:`TokenFetcher`); it is awaited
    by exactly one coroutine at a time, with the timeout of the call that triggered it.
    """

    def __init__(
        self,
        fetch: Callable[[Timeout | None], Awaitable[AccessToken]],
        *,
        clock: Callable[[], float] = time.time,
        policy: RefreshPolicy | None = None,
        store: TokenStore | None = None,
        store_key: str = "default",
    ) -> None:
        self._fetch = fetch
        self._store = store
        self._store_key = store_key
        self._rejected: str | None = None
        self._clock = clock
        self._policy = policy or RefreshPolicy()
        self._entry: _Entry | None = None
        self._lock: anyio.Lock | None = None
        self._attempts = 0
        self._fetching = False
        self._failure: tuple[int, Exception] | None = None
        self.fetch_count = 0
        """How many token requests this cache has made itself (for tests and metrics)."""
        self.telemetry: Telemetry | None = None
        """Where refresh spans and counters go (set by the client with ``telemetry=True``)."""

    def peek(self) -> AccessToken | None:
        """The cached token, fresh or not, without any I/O."""
        return self._entry.token if self._entry else None

    def invalidate(self, token: AccessToken | None = None) -> None:
        """Forget the cached token (only if it is ``token``, when given), e.g. after a 401xx01."""
        if self._entry is not None and (token is None or self._entry.token is token):
            self._rejected = self._entry.token.value
            self._entry = None

    async def get(self, timeout: Timeout | None = None) -> AccessToken:
        """Return a usable token, fetching one (bounded by ``timeout``) if needed."""
        entry = self._entry
        if entry is not None and self._clock() < entry.refresh_at:
            return entry.token
        return await self._refresh(timeout)

    async def _refresh(self, timeout: Timeout | None) -> AccessToken:
        if self._lock is None:
            self._lock = anyio.Lock()
        # The first refresh attempt whose outcome also answers this caller: the one in flight
        # now, or else the next one to start.
        first_relevant = self._attempts if self._fetching else self._attempts + 1
        async with self._lock:
            entry = self._entry
            now = self._clock()
            if entry is not None and now < entry.refresh_at:
                return entry.token  # another coroutine refreshed while we waited
            failure = self._failure
            if failure is not None and failure[0] >= first_relevant:
                # A refresh in flight when we arrived (or begun since) failed: share its outcome
                # instead of hammering a failing token endpoint once per waiter.
                if entry is not None and now < entry.expires_at:
                    return entry.token
                raise failure[1]
            self._attempts += 1
            attempt = self._attempts
            self._fetching = True
            try:
                token = await self._obtain(timeout)
            except Exception as exc:
                self._failure = (attempt, exc)
                now = self._clock()
                if entry is not None and now < entry.expires_at:
                    logger.warning(
                        "early token refresh failed (%s); serving the current token until expiry",
                        type(exc).__name__,
                    )
                    entry.refresh_at = min(now + self._policy.retry_interval, entry.expires_at)
                    return entry.token
                raise
            finally:
                self._fetching = False
            self._failure = None
            self._entry = self._entry_for(token)
            return token

    async def _obtain(self, timeout: Timeout | None) -> AccessToken:
        """One refresh: from the token endpoint, or through the shared store; traced when
        telemetry is on (whether the token came from the store is an attribute)."""
        fetch = self._fetch_now if self._store is None else self._shared_refresh
        tel = self.telemetry
        if tel is None:
            return await fetch(timeout)
        with tel.token_refresh(shared_store=self._store is not None) as trace:
            fetched = self.fetch_count
            token = await fetch(timeout)
            trace.from_store = self.fetch_count == fetched
            return token

    async def _fetch_now(self, timeout: Timeout | None) -> AccessToken:
        self.fetch_count += 1
        token = await self._fetch(timeout)
        self._rejected = None
        return token

    def _entry_for(self, token: AccessToken) -> _Entry:
        expires_at = token.expires_at.timestamp()
        return _Entry(
            token=token,
            expires_at=expires_at,
            refresh_at=expires_at - self._policy.margin(token.lifetime),
        )

    def _usable(self, token: AccessToken | None) -> bool:
        if token is None or token.value == self._rejected:
            return False
        return self._clock() < self._entry_for(token).refresh_at

    async def _shared_refresh(self, timeout: Timeout | None) -> AccessToken:
        """Refresh through the shared store; any store failure degrades to a local fetch."""
        store, key, policy = self._store, self._store_key, self._policy
        assert store is not None
        try:
            shared = await store.load(key)
            if self._usable(shared):
                assert shared is not None
                return shared
            if shared is not None and shared.value == self._rejected:
                await store.discard(key, shared.value)
            deadline = self._clock() + policy.lock_wait
            delay = policy.poll_interval
            while True:
                lock_id = await store.acquire(key, policy.lock_ttl)
                if lock_id is not None:
                    break
                await anyio.sleep(delay)
                delay = min(delay * 2, 0.5)
                shared = await store.load(key)
                if self._usable(shared):
                    assert shared is not None
                    return shared
                if self._clock() > deadline:
                    logger.warning(
                        "shared token lock still held after %.0fs; fetching locally",
                        policy.lock_wait,
                    )
                    return await self._fetch_now(timeout)
        except Exception as exc:
            logger.warning("token store unavailable (%s); fetching locally", type(exc).__name__)
            return await self._fetch_now(timeout)
        try:
            shared = await store.load(key)
            if self._usable(shared):
                assert shared is not None
                return shared
        except Exception as exc:
            logger.warning("token store unavailable (%s); fetching locally", type(exc).__name__)
        try:
            token = await self._fetch_now(timeout)
            try:
                await store.save(key, token)
            except Exception as exc:
                logger.warning("could not share the new token (%s)", type(exc).__name__)
            return token
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await store.release(key, lock_id)
                except Exception as exc:
                    # The lock expires by itself after lock_ttl.
                    logger.warning("could not release the token lock (%s)", type(exc).__name__)

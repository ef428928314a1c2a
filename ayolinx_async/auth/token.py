"""Access tokens and the single-flight token cache (design §3 "Token cache").

Fresh token: returned without taking a lock. Stale or missing: one coroutine fetches under an
``anyio.Lock`` while the others wait and reuse its result, so a cold start with thousands of
concurrent calls makes exactly one token request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio
import attrs

__all__ = ["AccessToken", "RefreshPolicy", "TokenCache"]

from .._log import logger


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

    def margin(self, lifetime: float) -> float:
        return max(0.0, min(self.max_margin, lifetime * self.ratio))


@attrs.define(slots=True)
class _Entry:
    token: AccessToken
    expires_at: float  # epoch seconds, from the cache's clock
    refresh_at: float


class TokenCache:
    """Caches one token and refreshes it single-flight.

    ``fetch`` performs the token request; it is awaited by exactly one coroutine at a time.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[AccessToken]],
        *,
        clock: Callable[[], float] = time.time,
        policy: RefreshPolicy | None = None,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._policy = policy or RefreshPolicy()
        self._entry: _Entry | None = None
        self._lock: anyio.Lock | None = None
        self._attempts = 0
        self._fetching = False
        self._failure: tuple[int, Exception] | None = None
        self.fetch_count = 0
        """How many token requests this cache has started (for tests and metrics)."""

    def peek(self) -> AccessToken | None:
        """The cached token, fresh or not, without any I/O."""
        return self._entry.token if self._entry else None

    def invalidate(self, token: AccessToken | None = None) -> None:
        """Forget the cached token (only if it is ``token``, when given), e.g. after a 401xx01."""
        if self._entry is not None and (token is None or self._entry.token is token):
            self._entry = None

    async def get(self) -> AccessToken:
        """Return a usable token, fetching one if needed."""
        entry = self._entry
        if entry is not None and self._clock() < entry.refresh_at:
            return entry.token
        return await self._refresh()

    async def _refresh(self) -> AccessToken:
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
            self.fetch_count += 1
            self._fetching = True
            try:
                token = await self._fetch()
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
            now = self._clock()
            lifetime = token.lifetime
            expires_at = now + lifetime
            self._entry = _Entry(
                token=token,
                expires_at=expires_at,
                refresh_at=expires_at - self._policy.margin(lifetime),
            )
            return token

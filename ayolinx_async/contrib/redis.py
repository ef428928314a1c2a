"""Redis-backed stores, so many workers on many hosts act as one merchant (extra ``[redis]``).

* :class:`RedisTokenStore` — the client's Ayolinx token, shared per (base URL, client key), with
  a ``SET NX PX`` refresh lock. A Redis failure only costs a local token fetch:
  :class:`~ayolinx_async._auth.token.TokenCache` catches it, so payments never fail for it.
* :class:`RedisDedupeStore` and :class:`RedisIssuedTokenStore` — the callback side. Their errors
  propagate on purpose: a callback handler that cannot reach Redis cannot know whether another
  replica is processing the same notification, nor check a token another replica issued, so it
  must answer non-2xx and let Ayolinx redeliver (it retries for about an hour) instead of
  acknowledging unprocessed money or processing it twice.

Built on redis-py's ``redis.asyncio`` client, so these stores run on asyncio (not trio). Every
operation is one atomic Redis command or one Lua script over one key, so no ``WATCH`` and no
cross-slot work; they are tested against a single redis-server.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

import anyio

from .._auth.stores import token_from_dict, token_to_dict
from .._auth.token import AccessToken
from .._errors import AyolinxError, ConfigurationError
from .._log import logger
from .._secret import Secret
from ..callbacks._stores import DEDUPE_DONE

try:
    from redis import Redis as _SyncRedis
    from redis import RedisCluster as _SyncRedisCluster
    from redis.asyncio import Redis, RedisCluster
    from redis.exceptions import RedisError, ResponseError
except ImportError as exc:
    raise ConfigurationError(
        'ayolinx_async.contrib.redis needs redis-py: pip install "ayolinx-async[redis]"'
    ) from exc

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_TIMEOUT",
    "RedisDedupeStore",
    "RedisIssuedTokenStore",
    "RedisStoreError",
    "RedisTokenStore",
]

#: Namespace of every key these stores write; give each deployment sharing a Redis its own.
DEFAULT_PREFIX = "ayolinx:"
#: Seconds one store operation may take (connect + retries included) before it counts as failed.
DEFAULT_TIMEOUT = 1.0

_T = TypeVar("_T")

#: Compare-and-delete: drop KEYS[1] only while it still holds ARGV[1] (a lock or dedupe owner).
_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

#: Compare-and-PEXPIRE: renew a dedupe lease only for its owner.
_EXTEND_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

#: Compare-and-delete on the token JSON: drop the shared token only if its value is ARGV[1].
_DISCARD_TOKEN = """
local raw = redis.call('GET', KEYS[1])
if not raw then
  return 0
end
local ok, data = pcall(cjson.decode, raw)
if ok and type(data) == 'table' and data['value'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisStoreError(AyolinxError):
    """A Redis store operation failed or timed out; the cause is chained (``__cause__``)."""


def _text(raw: object) -> str | None:
    """A reply as text, whether the client decodes responses or not (``None`` if not UTF-8)."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(raw)


def _wrong_type(exc: RedisStoreError) -> bool:
    """Redis refused a string command because the key holds a list, hash …"""
    cause = exc.__cause__
    return isinstance(cause, ResponseError) and str(cause).startswith("WRONGTYPE")


def _milliseconds(ttl: float) -> int:
    """``ttl`` seconds as a positive ``PX`` argument; rejects zero, negative and NaN."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
        raise ValueError("ttl must be a positive number of seconds")
    if math.isinf(ttl):
        raise ValueError("ttl must be finite")
    return max(1, math.ceil(ttl * 1000))


class _RedisStore:
    """What the three stores share: the client, the key prefix and the per-operation deadline."""

    __slots__ = ("_prefix", "_redis", "_timeout")

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        if isinstance(redis, _SyncRedis | _SyncRedisCluster):
            # Its calls return values, not awaitables: every operation would fail at runtime.
            raise ConfigurationError(
                "this store needs redis-py's asyncio client: redis.asyncio.Redis, not redis.Redis"
            )
        if not isinstance(prefix, str):
            raise ConfigurationError("prefix must be a string")
        if timeout is not None and not timeout > 0:
            raise ConfigurationError("timeout must be a positive number of seconds or None")
        self._redis = redis
        self._prefix = prefix
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} prefix={self._prefix!r}>"

    @property
    def redis(self) -> Redis | RedisCluster:
        """The client these stores talk through (closing it is the caller's job)."""
        return self._redis

    async def _call(self, command: str, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run one Redis round trip under the deadline; any failure becomes RedisStoreError."""
        try:
            with anyio.fail_after(self._timeout):
                return await operation()
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            raise RedisStoreError(f"redis {command} failed ({type(exc).__name__})") from exc

    async def _delete_if_equal(self, key: str, value: str) -> None:
        await self._call("EVAL", lambda: self._redis.eval(_DELETE_IF_EQUAL, 1, key, value))


class RedisTokenStore(_RedisStore):
    """A :class:`~ayolinx_async._auth.stores.TokenStore` in Redis.

    Pass it as ``AyolinxClient(..., token_store=RedisTokenStore(redis, prefix=...))``. The token
    key expires (``PX``) with the token; the refresh lock is ``SET NX PX`` with a random id, so a
    dead holder's lock lapses after the policy's ``lock_ttl``. Redis then holds the bearer token
    in clear: protect it like any credential store (ACLs, TLS, a private network).
    """

    __slots__ = ("_clock",)

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float | None = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(redis, prefix=prefix, timeout=timeout)
        self._clock = clock

    def _token_key(self, key: str) -> str:
        return f"{self._prefix}token:{key}"

    def _lock_key(self, key: str) -> str:
        return f"{self._prefix}token-lock:{key}"

    async def load(self, key: str) -> AccessToken | None:
        name = self._token_key(key)
        try:
            reply = await self._call("GET", lambda: self._redis.get(name))
        except RedisStoreError as exc:
            if not _wrong_type(exc):
                raise
            # A list or hash under the token key (a stray write) would read as an outage on
            # every call, and every process would fetch its own token forever: remove it.
            logger.warning("deleting a shared token key of the wrong type in redis")
            await self._call("DEL", lambda: self._redis.delete(name))
            return None
        raw = _text(reply)
        token = None
        if raw is not None:
            try:
                token = token_from_dict(json.loads(raw))
            except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
                token = None
        if token is None:
            if reply is not None:
                # Unreadable (another SDK version, a stray write, not UTF-8): treat as absent
                # so the next refresher overwrites it instead of every process fetching
                # locally forever.
                logger.warning("ignoring an unreadable shared token in redis")
            return None
        if token.expires_at.timestamp() <= self._clock():
            return None
        return token

    async def save(self, key: str, token: AccessToken) -> None:
        remaining = token.expires_at.timestamp() - self._clock()
        if not remaining > 0.001:
            return  # already expired: nothing worth sharing
        # Redacted in frame locals: a crash reporter must not print the token in it.
        payload = Secret(json.dumps(token_to_dict(token), separators=(",", ":")))
        px = _milliseconds(remaining)
        await self._call("SET", lambda: self._redis.set(self._token_key(key), payload, px=px))

    async def discard(self, key: str, value: str) -> None:
        await self._call(
            "EVAL", lambda: self._redis.eval(_DISCARD_TOKEN, 1, self._token_key(key), value)
        )

    async def acquire(self, key: str, ttl: float) -> str | None:
        px = _milliseconds(ttl)
        lock_id = secrets.token_hex(16)
        name = self._lock_key(key)
        taken = await self._call("SET", lambda: self._redis.set(name, lock_id, nx=True, px=px))
        if not taken and await self._call("TYPE", lambda: self._redis.type(name)) not in (
            "string",
            b"string",
            "none",
            b"none",
        ):
            # A stray non-string lock key never expires and would block every refresher.
            logger.warning("deleting a shared token lock key of the wrong type in redis")
            await self._call("DEL", lambda: self._redis.delete(name))
            taken = await self._call("SET", lambda: self._redis.set(name, lock_id, nx=True, px=px))
        return lock_id if taken else None

    async def release(self, key: str, lock_id: str) -> None:
        await self._delete_if_equal(self._lock_key(key), lock_id)


class _KeyedStore(_RedisStore):
    """A callback-side store: one string value per key, under ``<prefix><namespace>:``."""

    __slots__ = ()
    _namespace: ClassVar[str]

    def _key(self, key: str) -> str:
        return f"{self._prefix}{self._namespace}:{key}"

    async def get(self, key: str) -> str | None:
        return _text(await self._call("GET", lambda: self._redis.get(self._key(key))))


class RedisDedupeStore(_KeyedStore):
    """A :class:`~ayolinx_async.callbacks._stores.DedupeStore` in Redis: one callback, one run.

    ``claim`` is ``SET NX PX`` (the lease lapses if the worker dies), ``release`` a Lua
    compare-and-delete. Failures raise :class:`RedisStoreError` so the handler answers non-2xx.
    """

    __slots__ = ()
    _namespace = "dedupe"

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        px = _milliseconds(ttl)
        taken = await self._call(
            "SET", lambda: self._redis.set(self._key(key), owner, nx=True, px=px)
        )
        return bool(taken)

    async def complete(self, key: str, ttl: float) -> None:
        px = _milliseconds(ttl)
        await self._call("SET", lambda: self._redis.set(self._key(key), DEDUPE_DONE, px=px))

    async def release(self, key: str, owner: str) -> None:
        await self._delete_if_equal(self._key(key), owner)

    async def extend(self, key: str, owner: str, ttl: float) -> bool:
        px = _milliseconds(ttl)
        renewed = await self._call(
            "EVAL", lambda: self._redis.eval(_EXTEND_IF_EQUAL, 1, self._key(key), owner, px)
        )
        return bool(renewed)


class RedisIssuedTokenStore(_KeyedStore):
    """An :class:`~ayolinx_async.callbacks._stores.IssuedTokenStore` in Redis, so a token the
    merchant's token endpoint issued on one replica is accepted by every other."""

    __slots__ = ()
    _namespace = "issued"

    async def set(self, key: str, value: str, ttl: float) -> None:
        px = _milliseconds(ttl)
        await self._call("SET", lambda: self._redis.set(self._key(key), value, px=px))

    async def delete(self, key: str) -> None:
        await self._call("DEL", lambda: self._redis.delete(self._key(key)))

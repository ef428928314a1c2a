"""RedisTokenStore against a real redis-server: atomic lock and compare-and-delete, expiry with
the token, one token request for many clients, and Redis outages that never fail a call."""

from __future__ import annotations

import importlib
import logging
import socket
import sys
import time

import anyio
import pytest
import redis as sync_redis
import redis.asyncio as aioredis

from ayolinx_async import ConfigurationError, Credentials, RefreshPolicy
from ayolinx_async._auth.token import AccessToken
from ayolinx_async.contrib.redis import RedisStoreError, RedisTokenStore
from tests._fakes import FakeAyolinx, json_response
from tests.scale._servers import LOOPBACK, RedisServer, free_port

pytestmark = pytest.mark.anyio


def _token(value: str, lifetime: float) -> AccessToken:
    return AccessToken.from_lifetime(value, lifetime, time.time())


async def _command_calls(redis: aioredis.Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()}


async def test_save_load_round_trip_expires_with_token(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    token = _token("secret-token-value", 120)
    await store.save("k", token)
    loaded = await store.load("k")
    assert loaded is not None
    assert loaded.value == "secret-token-value"
    assert loaded.expires_at == token.expires_at
    assert loaded.issued_at == token.issued_at
    ttl_ms = await redis_client.pttl(f"{prefix}token:k")
    assert 118_000 < ttl_ms <= 120_000
    assert await store.load("other") is None


async def test_token_key_really_expires(redis_client: aioredis.Redis, prefix: str) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    await store.save("k", _token("short", 0.15))
    assert await store.load("k") is not None
    await anyio.sleep(0.2)
    assert await redis_client.exists(f"{prefix}token:k") == 0
    assert await store.load("k") is None


async def test_expired_token_is_not_saved_and_stale_one_not_served(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    await store.save("k", AccessToken.from_lifetime("old", 10, time.time() - 60))
    assert await redis_client.exists(f"{prefix}token:k") == 0
    # A clock ahead of Redis's expiry (skewed host) must not be handed an expired token.
    ahead = RedisTokenStore(redis_client, prefix=prefix, clock=lambda: time.time() + 3600)
    await store.save("k", _token("fresh", 60))
    assert await ahead.load("k") is None


async def test_unreadable_value_is_treated_as_absent(
    redis_client: aioredis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ayolinx_async")
    store = RedisTokenStore(redis_client, prefix=prefix)
    for junk in (b"not json", b"[]", b'{"value": "x"}', b'{"value":"x","expires_at":"soon"}'):
        await redis_client.set(f"{prefix}token:k", junk)
        assert await store.load("k") is None
    assert any("unreadable shared token" in r.getMessage() for r in caplog.records)


async def test_discard_deletes_only_the_rejected_value(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    await store.save("k", _token("current", 60))
    await store.discard("k", "some-older-token")
    assert (await store.load("k")) is not None
    await store.discard("k", "current")
    assert await store.load("k") is None
    await store.discard("k", "current")  # absent: no error


async def test_lock_is_exclusive_owned_and_expires(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    other_process = RedisTokenStore(redis_client, prefix=prefix)
    lock_id = await store.acquire("k", 0.2)
    assert lock_id is not None
    assert await other_process.acquire("k", 0.2) is None
    await other_process.release("k", "not-the-holder")  # compare-and-delete: no effect
    assert await other_process.acquire("k", 0.2) is None
    assert 0 < await redis_client.pttl(f"{prefix}token-lock:k") <= 200
    await store.release("k", lock_id)
    second = await other_process.acquire("k", 0.1)
    assert second is not None
    assert second != lock_id
    await anyio.sleep(0.15)  # the holder "died": its lock lapses by itself
    assert await store.acquire("k", 5) is not None


async def test_works_with_decoded_responses(shared_redis: RedisServer, prefix: str) -> None:
    client = aioredis.Redis.from_url(shared_redis.url, decode_responses=True)
    try:
        store = RedisTokenStore(client, prefix=prefix)
        await store.save("k", _token("decoded", 60))
        loaded = await store.load("k")
        assert loaded is not None
        assert loaded.value == "decoded"
        lock_id = await store.acquire("k", 5)
        assert lock_id is not None
        await store.release("k", lock_id)
        assert await client.exists(f"{prefix}token-lock:k") == 0
    finally:
        await client.aclose()


async def test_many_clients_cold_one_token_request_few_redis_commands(
    credentials: Credentials, redis_client: aioredis.Redis, prefix: str
) -> None:
    fake = FakeAyolinx(token_delay=0.2)
    before = await _command_calls(redis_client)
    # Separate stores and caches, as separate processes would have.
    clients = [
        fake.client(credentials, token_store=RedisTokenStore(redis_client, prefix=prefix))
        for _ in range(4)
    ]
    async with anyio.create_task_group() as tg:
        for client in clients:
            for _ in range(250):
                tg.start_soon(client.request, "/p", {})
    for client in clients:
        await client.aclose()
    after = await _command_calls(redis_client)
    assert len(fake.token_requests) == 1
    assert len(fake.service_requests) == 1000
    assert sum(c.token_cache.fetch_count for c in clients) == 1
    used = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    # 1000 callers, yet only each cache's refresher talks to Redis, polling with backoff.
    assert used.get("set", 0) >= 2  # the lock and the token
    assert sum(used.values()) < 60, used
    print(f"redis commands for 1000 cold callers: {sum(used.values())} {used}")
    assert all(c.token_cache.peek().value == "tok-1" for c in clients)  # type: ignore[union-attr]


async def test_dead_lock_holder_lapses_then_one_fetch(
    credentials: Credentials, redis_client: aioredis.Redis, prefix: str
) -> None:
    fake = FakeAyolinx()
    store = RedisTokenStore(redis_client, prefix=prefix)
    policy = RefreshPolicy(lock_ttl=0.3, poll_interval=0.01, lock_wait=5)
    client = fake.client(credentials, token_store=store, refresh_policy=policy)
    dead = RedisTokenStore(redis_client, prefix=prefix)
    assert await dead.acquire(client.token_cache._store_key, 0.3) is not None
    started = time.monotonic()
    token = await client.get_access_token()
    waited = time.monotonic() - started
    assert token.value == "tok-1"
    assert len(fake.token_requests) == 1
    assert 0.2 < waited < 2.0
    await client.aclose()


async def test_rejected_shared_token_is_discarded_in_redis(
    credentials: Credentials, redis_client: aioredis.Redis, prefix: str
) -> None:
    fake = FakeAyolinx()

    def service(request):  # type: ignore[no-untyped-def]
        if request.headers["authorization"] == "Bearer tok-1":
            return json_response(401, {"responseCode": "4015101", "responseMessage": "Invalid"})
        return json_response(200, {"responseCode": "2005100", "responseMessage": "Successful"})

    fake.service = service
    first = fake.client(credentials, token_store=RedisTokenStore(redis_client, prefix=prefix))
    second = fake.client(credentials, token_store=RedisTokenStore(redis_client, prefix=prefix))
    await first.get_access_token()
    result = await second.request("/p", {}, idempotent=True)
    assert result.attempts == 2
    assert len(fake.token_requests) == 2
    shared = await RedisTokenStore(redis_client, prefix=prefix).load(second.token_cache._store_key)
    assert shared is not None
    assert shared.value == "tok-2"
    await first.aclose()
    await second.aclose()


async def test_unreachable_redis_degrades_to_local_fetch(
    credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ayolinx_async")
    nothing_there = aioredis.Redis(host=LOOPBACK, port=free_port(), socket_connect_timeout=0.5)
    store = RedisTokenStore(nothing_there, timeout=0.5)
    fake = FakeAyolinx()
    try:
        started = time.monotonic()
        with pytest.raises(RedisStoreError) as caught:
            await store.load("k")
        assert time.monotonic() - started < 1.5
        assert isinstance(caught.value.__cause__, Exception)
        async with fake.client(credentials, token_store=store) as client:
            results = [await client.request("/p", {}) for _ in range(3)]
        assert [r.http_status for r in results] == [200, 200, 200]
        assert len(fake.token_requests) == 1
        assert any("token store unavailable" in r.getMessage() for r in caplog.records)
        assert all("tok-1" not in r.getMessage() for r in caplog.records)
    finally:
        await nothing_there.aclose()


async def test_hung_redis_is_bounded_by_the_store_timeout(credentials: Credentials) -> None:
    # A server that accepts connections and never answers (a stuck Redis, a black-holed proxy).
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        hung = aioredis.Redis(host=LOOPBACK, port=port)  # default socket timeouts (seconds)
        store = RedisTokenStore(hung, timeout=0.2)
        fake = FakeAyolinx()
        try:
            started = time.monotonic()
            with pytest.raises(RedisStoreError):
                await store.acquire("k", 5)
            assert time.monotonic() - started < 1.0
            async with fake.client(credentials, token_store=store) as client:
                started = time.monotonic()
                result = await client.request("/p", {})
                elapsed = time.monotonic() - started
            assert result.http_status == 200
            assert elapsed < 1.5
        finally:
            await hung.aclose()


async def test_arguments_are_checked(redis_client: aioredis.Redis) -> None:
    with pytest.raises(ConfigurationError):
        RedisTokenStore(redis_client, prefix=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisTokenStore(redis_client, timeout=0)
    with pytest.raises(ConfigurationError, match=r"redis\.asyncio"):
        RedisTokenStore(sync_redis.Redis())  # type: ignore[arg-type]
    store = RedisTokenStore(redis_client)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="ttl"):
            await store.acquire("k", bad)
    assert "ayolinx:" in repr(store)


async def test_secret_never_in_repr_or_store_errors(redis_client: aioredis.Redis) -> None:
    store = RedisTokenStore(redis_client, prefix="p:")
    token = _token("sekrit-value-123", 60)
    assert "sekrit" not in repr(store) + repr(token)
    broken = aioredis.Redis(host=LOOPBACK, port=free_port(), socket_connect_timeout=0.2)
    try:
        with pytest.raises(RedisStoreError) as caught:
            await RedisTokenStore(broken, timeout=0.5).save("k", token)
        assert "sekrit" not in str(caught.value)
    finally:
        await broken.aclose()


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    monkeypatch.delitem(sys.modules, "ayolinx_async.contrib.redis")
    with pytest.raises(ConfigurationError, match=r'pip install "ayolinx-async\[redis\]"'):
        importlib.import_module("ayolinx_async.contrib.redis")
    monkeypatch.undo()
    assert importlib.import_module("ayolinx_async.contrib.redis").RedisTokenStore


@pytest.mark.parametrize("poison", ["list", "hash", "not-utf8"])
async def test_a_token_key_of_the_wrong_type_is_replaced_not_fetched_around_forever(
    credentials: Credentials,
    redis_client: aioredis.Redis,
    prefix: str,
    poison: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stray list, hash or non-UTF-8 value under the token key must not make every process
    fetch its own token forever (issue 12 §6): the key is overwritten or removed."""
    caplog.set_level(logging.WARNING, logger="ayolinx_async")
    fake = FakeAyolinx()
    probe = fake.client(credentials, token_store=RedisTokenStore(redis_client, prefix=prefix))
    key = probe.token_cache._store_key
    await probe.aclose()
    name = f"{prefix}token:{key}"
    if poison == "list":
        await redis_client.rpush(name, "a", "b")
    elif poison == "hash":
        await redis_client.hset(name, mapping={"a": "b"})
    else:
        await redis_client.set(name, b"\xff\xfe\x00token")
    first = fake.client(credentials, token_store=RedisTokenStore(redis_client, prefix=prefix))
    await first.request("/p", {})
    await first.aclose()
    # The next process reads the shared token instead of fetching its own.
    second = fake.client(credentials, token_store=RedisTokenStore(redis_client, prefix=prefix))
    await second.request("/p", {})
    await second.aclose()
    assert len(fake.token_requests) == 1
    assert await redis_client.type(name) in (b"string", "string")
    assert any("redis" in r.getMessage() for r in caplog.records)


async def test_a_lock_key_of_the_wrong_type_does_not_block_refreshers(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    await redis_client.rpush(f"{prefix}token-lock:k", "stuck")
    lock_id = await store.acquire("k", 5.0)
    assert lock_id is not None
    assert await store.acquire("k", 5.0) is None  # and it is a real lock again

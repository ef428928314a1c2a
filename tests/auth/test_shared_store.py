"""Token sharing through a TokenStore: one token request for many clients, and store outages
never fail a call."""

from __future__ import annotations

import logging

import anyio
import pytest

from ayolinx_async import Credentials, MemoryTokenStore, RefreshPolicy
from ayolinx_async._auth.token import AccessToken
from tests._fakes import FakeAyolinx, FakeClock, json_response

pytestmark = pytest.mark.anyio


class BrokenStore(MemoryTokenStore):
    """A store whose every call fails (Redis down)."""

    async def load(self, key: str) -> AccessToken | None:
        raise ConnectionError("store down")

    async def acquire(self, key: str, ttl: float) -> str | None:
        raise ConnectionError("store down")


async def test_many_clients_cold_share_one_token_request(credentials: Credentials) -> None:
    fake = FakeAyolinx(token_delay=0.05)
    store = MemoryTokenStore()
    clients = [fake.client(credentials, token_store=store) for _ in range(4)]
    async with anyio.create_task_group() as tg:
        for client in clients:
            for _ in range(250):
                tg.start_soon(client.request, "/p", {})
    for client in clients:
        await client.aclose()
    assert len(fake.token_requests) == 1
    assert len(fake.service_requests) == 1000
    assert sum(c.token_cache.fetch_count for c in clients) == 1


async def test_store_outage_degrades_to_local_fetch(
    credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ayolinx_async")
    fake = FakeAyolinx()
    async with fake.client(credentials, token_store=BrokenStore()) as client:
        results = [await client.request("/p", {}) for _ in range(3)]
    assert len(results) == 3
    assert len(fake.token_requests) == 1  # the local cache still works
    assert any("token store unavailable" in r.getMessage() for r in caplog.records)


async def test_rejected_shared_token_is_discarded_not_reused(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    store = MemoryTokenStore()

    def service(request):  # type: ignore[no-untyped-def]
        if request.headers["authorization"] == "Bearer tok-1":
            return json_response(401, {"responseCode": "4015101", "responseMessage": "Invalid"})
        return json_response(200, {"responseCode": "2005100", "responseMessage": "Successful"})

    fake.service = service
    first = fake.client(credentials, token_store=store)
    second = fake.client(credentials, token_store=store)
    await first.get_access_token()  # tok-1 is now shared
    result = await second.request("/p", {}, idempotent=True)  # rejected once, then tok-2
    assert result.attempts == 2
    assert len(fake.token_requests) == 2
    shared = await store.load(next(iter(store._tokens)))
    assert shared is not None
    assert shared.value == "tok-2"
    await first.aclose()
    await second.aclose()


async def test_dead_lock_holder_expires(credentials: Credentials) -> None:
    clock = FakeClock()
    store = MemoryTokenStore(clock=clock)
    fake = FakeAyolinx()
    policy = RefreshPolicy(lock_ttl=15, poll_interval=0.001, lock_wait=60)
    client = fake.client(credentials, token_store=store, clock=clock, refresh_policy=policy)
    key = client.token_cache._store_key
    assert await store.acquire(key, 15) is not None  # a process that took the lock and died

    async def later() -> None:
        await anyio.sleep(0.02)
        clock.advance(16)

    async with anyio.create_task_group() as tg:
        tg.start_soon(later)
        token = await client.get_access_token()
    assert token.value == "tok-1"
    assert len(fake.token_requests) == 1
    await client.aclose()

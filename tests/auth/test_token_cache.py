"""Single-flight token cache under real concurrency, on asyncio and trio."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio
import pytest

from ayolinx_async import (
    AccessToken,
    Credentials,
    InvalidTokenError,
    RefreshPolicy,
    ServerError,
    Timeout,
    TokenCache,
)
from tests._fakes import FakeAyolinx, FakeClock, json_response

pytestmark = pytest.mark.anyio


async def _burst(n: int, fn) -> list[object]:  # type: ignore[no-untyped-def]
    results: list[object] = []

    async def one() -> None:
        results.append(await fn())

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return results


async def test_cold_stampede_makes_exactly_one_token_request(credentials: Credentials) -> None:
    fake = FakeAyolinx(token_delay=0.05)
    async with fake.client(credentials) as client:
        results = await _burst(
            1000, lambda: client.request("/v1.0/qr/qr-mpm-query", {}, idempotent=True)
        )
    assert len(results) == 1000
    assert len(fake.token_requests) == 1
    assert len(fake.service_requests) == 1000
    assert {r.headers["authorization"] for r in fake.service_requests} == {"Bearer tok-1"}


async def test_expiry_during_a_run_makes_exactly_one_refresh(credentials: Credentials) -> None:
    clock = FakeClock()
    fake = FakeAyolinx(expires_in=900, token_delay=0.01)
    async with fake.client(credentials, clock=clock) as client:
        await _burst(200, lambda: client.request("/p", {}))
        clock.advance(900 - 30)  # inside the 60 s early-refresh margin
        await _burst(500, lambda: client.request("/p", {}))
    assert len(fake.token_requests) == 2
    tokens = [r.headers["authorization"] for r in fake.service_requests]
    assert tokens[:200] == ["Bearer tok-1"] * 200
    assert set(tokens[200:]) <= {"Bearer tok-1", "Bearer tok-2"}
    assert tokens[-1] == "Bearer tok-2"


async def test_early_refresh_failure_keeps_serving_the_old_token(credentials: Credentials) -> None:
    clock = FakeClock()
    fake = FakeAyolinx(expires_in="900")
    async with fake.client(credentials, clock=clock, max_retries=0) as client:
        first = await client.get_access_token()
        clock.advance(880)  # stale (margin 60 s) but still valid
        fake.token_failures = 1
        results = await _burst(50, client.get_access_token)
        assert all(t is first for t in results)
        assert len(fake.token_requests) == 2  # one failed attempt, shared by all 50 callers
        clock.advance(30)  # now past expiry: the old token must not be served
        fake.token_failures = 1
        with pytest.raises(ServerError):
            await client.get_access_token()
        fresh = await client.get_access_token()
        assert fresh.value == "tok-4"


async def test_failed_cold_fetch_is_shared_not_repeated_per_waiter(
    credentials: Credentials,
) -> None:
    fake = FakeAyolinx(token_delay=0.02)
    fake.token_failures = 1
    async with fake.client(credentials, max_retries=0) as client:
        outcomes = await _burst(100, lambda: _catch(client.get_access_token))
    assert len(fake.token_requests) == 1
    assert all(isinstance(o, ServerError) for o in outcomes)


async def _catch(fn: Callable[[], Awaitable[object]]) -> object:
    try:
        return await fn()
    except Exception as exc:
        return exc


async def test_invalid_token_answer_refreshes_once_and_retries_once(
    credentials: Credentials,
) -> None:
    fake = FakeAyolinx()
    calls = {"n": 0}

    def service(request):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if request.headers["authorization"] == "Bearer tok-1":
            return json_response(
                401, {"responseCode": "4015101", "responseMessage": "Invalid Token"}
            )
        return json_response(200, {"responseCode": "2005100", "responseMessage": "Successful"})

    fake.service = service
    async with fake.client(credentials) as client:
        result = await client.request("/p", {}, idempotent=True)
    assert result.attempts == 2
    assert len(fake.token_requests) == 2
    ids = [r.headers["x-external-id"] for r in fake.service_requests]
    assert ids[0] == ids[1]  # same logical call, same X-EXTERNAL-ID


async def test_invalid_token_forever_is_not_a_loop(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    fake.service = lambda request: json_response(
        401, {"responseCode": "4014701", "responseMessage": "Invalid Token (B2B)"}
    )
    async with fake.client(credentials) as client:
        with pytest.raises(InvalidTokenError) as info:
            await client.request("/v1.0/qr/qr-mpm-generate", {"partnerReferenceNo": "A"})
    assert info.value.case_code == "01"
    assert len(fake.service_requests) == 2
    assert len(fake.token_requests) == 2


async def test_cancelling_the_refresher_leaves_the_cache_usable(credentials: Credentials) -> None:
    fake = FakeAyolinx(token_delay=0.2)
    async with fake.client(credentials) as client:
        with anyio.move_on_after(0.05) as scope:
            await client.get_access_token()
        assert scope.cancelled_caught
        fake.token_delay = 0
        token = await client.get_access_token()
    assert token.value == "tok-2"


async def test_cancelled_waiters_do_not_wedge_the_cache(credentials: Credentials) -> None:
    fake = FakeAyolinx(token_delay=0.1)
    async with fake.client(credentials) as client:
        fake.token_seen = anyio.Event()
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.get_access_token)
            # Cancel while the fetch is in flight (waiting on the clock alone is flaky on a
            # loaded machine: the fetch may not have left yet).
            with anyio.fail_after(5):
                await fake.token_seen.wait()
            tg.cancel_scope.cancel()
        fake.token_delay = 0
        results = await _burst(20, client.get_access_token)
    assert len(fake.token_requests) == 2  # the cancelled fetch, then exactly one more
    assert {t.value for t in results} == {"tok-2"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("expires_in", ["900", 900, 900.0])
async def test_expires_in_accepts_string_or_number(
    credentials: Credentials, expires_in: object
) -> None:
    clock = FakeClock()
    fake = FakeAyolinx(expires_in=expires_in)
    async with fake.client(credentials, clock=clock) as client:
        token = await client.get_access_token()
    assert token.lifetime == 900
    assert token.expires_at == datetime.fromtimestamp(clock.now + 900, UTC)


async def test_no_network_io_in_constructor(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    client = fake.client(credentials)
    assert fake.token_requests == []
    assert client.token_cache.peek() is None
    await client.aclose()


async def test_refresh_margin_scales_with_lifetime() -> None:
    policy = RefreshPolicy()
    assert policy.margin(900) == 60
    assert policy.margin(30) == 3
    assert policy.margin(3600) == 60
    clock = FakeClock()
    fetched: list[int] = []

    async def fetch(timeout: Timeout | None) -> AccessToken:
        fetched.append(1)
        return AccessToken.from_lifetime(f"t{len(fetched)}", 30, clock())

    cache = TokenCache(fetch, clock=clock)
    await cache.get()
    clock.advance(26)
    assert (await cache.get()).value == "t1"
    clock.advance(1.5)  # 27.5 s: inside the 3 s margin
    assert (await cache.get()).value == "t2"

"""Cancellation during a call, during backoff and during a token refresh (asyncio and trio).

Cancellation must propagate untouched (never turned into an SDK error or a retry), leave no
lock held and no half-state behind: the next call on the same client just works.
"""

from __future__ import annotations

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import Credentials, RetryPolicy
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.testing import Fault
from tests.reliability._gateway import Rig, rig

pytestmark = pytest.mark.anyio

REF = "ORD-CANCEL-1"


async def _cancelled_after(seconds: float, coro_fn, *args: object) -> bool:  # type: ignore[no-untyped-def]
    """Run ``coro_fn(*args)`` under a deadline; True if it was cancelled rather than finished."""
    with anyio.move_on_after(seconds) as scope:
        await coro_fn(*args)
    return scope.cancelled_caught


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
@pytest.mark.parametrize("after_send", [True, False], ids=["server-acted", "in-flight"])
async def test_cancelling_a_call_in_flight_propagates_and_is_not_retried(
    kind: str, after_send: bool, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        await r.client.get_access_token()
        path = r.path(kind)
        r.faults.inject(Fault.hang(after_send=after_send), path=path)
        assert await _cancelled_after(0.05, r.call, kind, REF)
        await anyio.sleep(0.02)  # nothing is left running in the background
        assert r.attempts(path) == 1
        assert r.faults.records_for(path)[0].outcome == "cancelled"
        assert r.faults.forwarded_to(path) == (1 if after_send else 0)
        assert r.sleeps.delays == []
        # The client is intact: the same call now succeeds with the cached token.
        with anyio.fail_after(2):
            await r.call(kind, REF if kind == "read-only" else REF + "-2")
        assert r.gateway.token_requests == 1


async def test_cancelling_during_backoff_stops_the_retries(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(
        credentials, merchant_key, sleep=anyio.sleep, retry=RetryPolicy(initial=30, jitter=False)
    ) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject_always(Fault.status(503), path=Rig.path("read-only"))
        assert await _cancelled_after(0.1, r.query, REF)
        await anyio.sleep(0.02)
        assert r.attempts(Rig.path("read-only")) == 1


async def test_cancelling_the_only_token_refresh_leaves_the_cache_usable(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.hang(after_send=True), path=TOKEN_PATH)
        assert await _cancelled_after(0.05, r.query, REF)
        assert r.client.token_cache.peek() is None
        with anyio.fail_after(2):  # a held lock would hang here
            result = await r.query(REF)
        assert result.latest_transaction_status == "01"
        assert r.attempts(TOKEN_PATH) == 2
        assert r.attempts(Rig.path("read-only")) == 1
        # The cancelled request reached the server, so it issued a token nobody uses.
        assert r.gateway.token_requests == 2
        assert r.client.token_cache.peek().value == r.gateway.issued[-1]  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
async def test_cancelling_the_refreshing_caller_lets_the_waiters_through(
    kind: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    """The coroutine doing a single-flight refresh is cancelled while 20 others wait on it:
    one waiter takes over the refresh and every waiter succeeds."""
    waiters = 20
    async with rig(credentials, merchant_key) as r:
        refs = [f"{REF}-{i}" for i in range(waiters)]
        for ref in refs:
            r.gateway.set_status(ref, "01")
        r.faults.inject(Fault.hang(after_send=True), path=TOKEN_PATH)
        results: list[object] = []
        refreshing = anyio.Event()
        r.gateway.on_token = refreshing.set

        async def waiter(ref: str) -> None:
            results.append(await r.call(kind, ref + ("" if kind == "read-only" else "-new")))

        async with anyio.create_task_group() as tg:
            with anyio.move_on_after(1.0) as refresher:
                tg.start_soon(_cancelled_after, 0.05, r.query, REF)
                await refreshing.wait()  # the refresh is in flight
                for ref in refs:
                    tg.start_soon(waiter, ref)
        assert not refresher.cancelled_caught
        assert len(results) == waiters
        assert r.attempts(TOKEN_PATH) == 2  # the cancelled refresh, then exactly one more
        assert r.attempts(r.path(kind)) == waiters
        tokens = {
            rec.request.headers["Authorization"] for rec in r.faults.records_for(r.path(kind))
        }
        assert tokens == {f"Bearer {r.gateway.issued[-1]}"}


async def test_cancelling_everyone_during_a_refresh_leaves_nothing_behind(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.hang(), path=TOKEN_PATH)
        with anyio.move_on_after(0.05):
            async with anyio.create_task_group() as tg:
                for _ in range(50):
                    tg.start_soon(r.query, REF)
        with anyio.fail_after(2):
            results = [await r.query(REF) for _ in range(3)]
        assert [res.latest_transaction_status for res in results] == ["01"] * 3
        assert r.attempts(TOKEN_PATH) == 2
        assert r.attempts(Rig.path("read-only")) == 3

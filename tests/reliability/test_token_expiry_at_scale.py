"""10,000 concurrent calls against the in-process simulator while its tokens expire twice:
zero failures, and exactly one token fetch per expiry plus the first one.

Time is the simulator's fake clock, moved forward a fixed step by every request that goes out,
so the run spans 2.25 token lifetimes deterministically. The calls are 10,000 tasks started at
once; a capacity limiter keeps 256 of them between signing and answer at any moment (as an
application's connection pool would), and every request yields on its way out, so the clock
moves by up to 256 steps between a request's signature and its arrival, and refreshes happen
while other calls wait on the single-flight lock. (Unbounded, all 10,000 would be signed in
the first instant and arrive two lifetimes later, which no real deployment does.)
"""

from __future__ import annotations

import time

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import Transport
from ayolinx_async._endpoints import TOKEN_PATH, Endpoint
from tests.reliability._gateway import Clock
from tests.reliability._simrig import Ticking, sim_rig

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CALLS = 10_000
CREATES = 1_000  # every tenth call moves money, the rest read a status
LIFETIME = 600  # seconds; the client refreshes 60 s (10 %) early
SPAN = 2.25 * LIFETIME
IN_FLIGHT = 256


async def test_ten_thousand_calls_two_expiries_no_failures(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    clock = Clock()
    step = SPAN / CALLS

    def tick(path: str) -> None:
        if path != TOKEN_PATH:
            clock.advance(step)

    ticking: list[Ticking] = []

    def wrap(inner: Transport) -> Transport:
        ticking.append(Ticking(inner, tick))
        return ticking[0]

    async with sim_rig(
        merchant_key,
        clock=clock,
        wrap=wrap,
        sim_options={"token_lifetime": LIFETIME},
    ) as r:
        start = clock()
        limiter = anyio.CapacityLimiter(IN_FLIGHT)
        failures: list[BaseException] = []
        done = 0

        async def call(index: int) -> None:
            nonlocal done
            try:
                async with limiter:
                    if index % (CALLS // CREATES) == 0:
                        await r.client.qris.generate(
                            partner_reference_no=f"ORD-SCALE-{index}", amount=10_000
                        )
                    else:
                        await r.client.qris.query(original_partner_reference_no="ORD-SCALE-0")
            except Exception as exc:  # collected, not raised: the assertion shows them all
                failures.append(exc)
            else:
                done += 1

        await r.client.qris.generate(partner_reference_no="ORD-SCALE-0", amount=10_000)
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for index in range(1, CALLS + 1):
                tg.start_soon(call, index)
        elapsed = time.perf_counter() - started
        span = clock() - start

        assert failures == []
        assert done == CALLS
        assert 2 * LIFETIME < span < 3 * LIFETIME  # the token expired twice during the run
        assert r.client.token_cache.fetch_count == 3  # = expirations + 1
        assert len(r.faults.records_for(TOKEN_PATH)) == 3
        service = [rec for rec in r.faults.records if rec.path != TOKEN_PATH]
        assert len(service) == CALLS + 1  # no call needed a second attempt
        assert {rec.outcome for rec in service} == {"HTTP 200"}
        assert len(r.sim.transactions()) == CREATES + 1
        tokens = {rec.request.headers["Authorization"] for rec in service}
        assert len(tokens) == 3
        assert ticking[0].peak == IN_FLIGHT, "the calls did not overlap"
        print(
            f"\n{CALLS} calls in {elapsed:.2f}s ({CALLS / elapsed:.0f}/s),"
            f" peak {ticking[0].peak} in flight, 3 token fetches"
        )


async def test_revocation_in_the_middle_of_a_burst_costs_one_fetch(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    """Ayolinx invalidates every token mid-burst (a key rotation): each call caught with the
    old token is refreshed and re-sent once, with a single token fetch for all of them."""
    calls = 2_000
    sent = 0
    sim_ref: list[object] = []

    def revoke_at_middle(path: str) -> None:
        nonlocal sent
        if path == TOKEN_PATH:
            return
        sent += 1
        if sent == calls // 2:
            sim_ref[0].revoke_tokens()  # type: ignore[attr-defined]

    def wrap(inner: Transport) -> Transport:
        return Ticking(inner, revoke_at_middle)

    async with sim_rig(merchant_key, wrap=wrap) as r:
        sim_ref.append(r.sim)
        await r.client.qris.generate(partner_reference_no="ORD-REV-0", amount=10_000)
        limiter = anyio.CapacityLimiter(IN_FLIGHT)
        results: list[object] = []

        async def call() -> None:
            async with limiter:
                results.append(await r.client.qris.query(original_partner_reference_no="ORD-REV-0"))

        async with anyio.create_task_group() as tg:
            for _ in range(calls):
                tg.start_soon(call)
        rejected = sum(
            1
            for rec in r.sim.requests()
            if rec.path == Endpoint.QRIS_QUERY.path and rec.http_status == 401
        )
        assert len(results) == calls
        assert r.client.token_cache.fetch_count == 2
        assert rejected >= 1
        assert len(r.faults.records_for(Endpoint.QRIS_QUERY.path)) == calls + rejected

"""P2: cold-cache stampede — 10,000 concurrent signed queries on a client with no token yet.

The token cache must make exactly one token request while the other 9,999 calls wait for it, and
the whole burst should take about as long as the same burst with a token already cached.
"""

from __future__ import annotations

import asyncio
import time

import anyio
import httpx

from ayolinx_async import AyolinxClient
from ayolinx_async._client import TOKEN_PATH

from ._fixtures import TOKEN_BODY, CannedAyolinx, mock_sdk_client, new_key, sdk_query
from ._report import Check, Report, median, paired_ratio

CALLS = 10_000
REPEATS = 4
TOKEN_LATENCY = 0.02  # a token round trip to Jakarta; every waiting call piles up behind it
GOAL = 1.05


class _SlowTokenAyolinx(CannedAyolinx):
    """Canned answers, with the token endpoint taking ``TOKEN_LATENCY`` like a real one; counts
    the most service requests in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.peak_in_flight = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            self.token_requests += 1
            await anyio.sleep(TOKEN_LATENCY)
            return httpx.Response(200, content=TOKEN_BODY)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await super().handle(request)
        finally:
            self.in_flight -= 1


async def _burst(client: AyolinxClient, calls: int) -> float:
    failures: list[BaseException] = []

    async def one() -> None:
        try:
            await sdk_query(client)
        except Exception as exc:  # counted, reported below
            failures.append(exc)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(calls):
            tg.start_soon(one)
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} calls failed, first: {failures[0]!r}")
    return elapsed


async def _run(calls: int, repeats: int) -> Report:
    key = new_key()
    cold_times: list[float] = []
    warm_times: list[float] = []
    token_requests: list[int] = []
    peaks: dict[bool, int] = {True: 0, False: 0}
    for pair in range(repeats):
        # Pairs alternate which burst goes first, so a trend in machine load favours neither.
        for cold in (True, False) if pair % 2 == 0 else (False, True):
            fake = _SlowTokenAyolinx()
            async with mock_sdk_client(key, httpx.MockTransport(fake.handle)) as client:
                if not cold:
                    await client.get_access_token()
                    fake.token_requests = 0
                elapsed = await _burst(client, calls)
            if fake.service_requests != calls:
                raise RuntimeError(f"{calls} calls made {fake.service_requests} service requests")
            peaks[cold] = max(peaks[cold], fake.peak_in_flight)
            if cold:
                cold_times.append(elapsed)
                token_requests.append(fake.token_requests)
            else:
                warm_times.append(elapsed)
    ratio = paired_ratio(cold_times, warm_times)
    report = Report(
        title="P2 cold stampede",
        setup=(
            f"{calls:,} concurrent qris.query calls (one task each, asyncio), token endpoint"
            f" latency {TOKEN_LATENCY * 1000:.0f} ms, {repeats} cold and {repeats} warm bursts"
            " alternating, fresh client each; ratio = median over pairs of cold wall time /"
            " the warm burst's next to it."
        ),
        columns=[
            "burst",
            "median wall s",
            "best wall s",
            "token requests",
            "calls/s",
            "peak in flight",
        ],
        rows=[
            [
                "cold cache",
                median(cold_times),
                min(cold_times),
                max(token_requests),
                calls / median(cold_times),
                peaks[True],
            ],
            [
                "warm token",
                median(warm_times),
                min(warm_times),
                0,
                calls / median(warm_times),
                peaks[False],
            ],
            ["ratio cold/warm", ratio, min(cold_times) / min(warm_times), "", "", ""],
        ],
    )
    report.notes.append(
        "Cold can beat warm: the token lock hands the token to its waiters one per loop"
        " iteration, which staggers them, while a warm burst puts every call in flight at once"
        " (see 'peak in flight')."
    )
    report.checks.append(Check("P2 token requests", max(token_requests), "==", 1))
    report.checks.append(Check("P2 cold/warm", ratio, "<=", GOAL))
    return report


def run(quick: bool = False) -> list[Report]:
    calls, repeats = (2_000, 1) if quick else (CALLS, REPEATS)
    return [asyncio.run(_run(calls, repeats))]

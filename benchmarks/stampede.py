"""10,000 concurrent calls, cold then warm, and memory: per in-flight call at 10,000 in flight,
and growth over 100,000 calls.

Each variant runs in a fresh interpreter (pinned to the client core) so its RSS is its own.
Bare httpx gets an ``asyncio.Semaphore`` at its pool size: without one it never finishes
(issue 15), and a careful hand-written client would add it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient
from ayolinx_async.transport import HttpRequest, HttpResponse

from ._clients import (
    TIMEOUT,
    BareAiohttp,
    BareHttpx,
    Op,
    RawClient,
    burst,
    close_sdk,
    counting_server,
    credentials,
    new_key,
    pin_client,
    sdk_client,
    sdk_default,
    server_counts,
    typed_op,
)
from ._data import QUERY_BODY, TOKEN_BODY, TOKEN_PATH
from ._report import Check, Report, ratio_cell, ratios

CALLS = 10_000
GROWTH_CALLS = 100_000
LIMIT_SECONDS = 120.0
PAGE = 4096
COLD_WARM_GOAL = 1.05
MEMORY_GOAL = 1.1
GROWTH_GOAL_MIB = 2.0
VARIANTS = {
    "sdk-httpx": ("SDK, default httpx transport", "bare-httpx"),
    "bare-httpx": ("bare httpx pool + Semaphore(20)", None),
    "sdk-aiohttp": ("SDK, aiohttp transport", "bare-aiohttp"),
    "bare-aiohttp": ("bare aiohttp", None),
    "raw": ("raw asyncio", None),
}


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def _peak_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the burst's peak is its own."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


class _Canned:
    """In-process answers, to run the SDK's code once before a burst."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        body = TOKEN_BODY if request.url.endswith(TOKEN_PATH) else QUERY_BODY
        return HttpResponse(status_code=200, headers={}, content=body)

    async def aclose(self) -> None:
        return None


async def _warm_code(key: rsa.RSAPrivateKey) -> None:
    """One typed call on a throwaway client: the modules the SDK loads on first use and the
    readers it compiles per class are in memory before the burst, as the floors' code is. The
    measured client stays cold (no token, no connection)."""
    async with AyolinxClient(
        credentials(key), base_url="http://warm.invalid", transport=_Canned()
    ) as warm:
        await typed_op(warm)()


async def _child(variant: str, url: str, calls: int) -> dict[str, float]:
    """One variant: cold burst, warm burst (peak memory per in-flight call), counts."""
    key = new_key()
    before = server_counts(url)
    close: list[object] = []
    op: Op
    if variant.startswith("sdk"):
        await _warm_code(key)
        client = (
            sdk_default(key, url) if variant == "sdk-httpx" else sdk_client(key, url, "aiohttp")
        )
        op = typed_op(client)
        close.append(lambda: close_sdk(client))
    else:
        floor: BareHttpx | BareAiohttp | RawClient
        if variant == "bare-httpx":
            floor = BareHttpx(key, url, limit=20)
            gate = asyncio.Semaphore(20)

            async def gated() -> object:
                async with gate:
                    return await floor.query()

            op = gated
        else:
            floor = BareAiohttp(key, url) if variant == "bare-aiohttp" else RawClient(key, url)
            op = floor.query

        await floor.fetch_token()  # the floors fetch their token up front
        close.append(floor.aclose)
    # Memory is read on the cold burst: after it, freed arenas make a second burst look free.
    base = _rss_mib()
    _reset_peak()
    cold = await burst(op, calls, LIMIT_SECONDS)
    per_call_kib = (_peak_mib() - base) * 1024 / calls
    await asyncio.sleep(0.2)
    warm = await burst(op, calls, LIMIT_SECONDS)
    after = server_counts(url)
    for closer in close:
        await closer()  # type: ignore[operator]
    return {
        "cold": cold,
        "warm": warm,
        "per_call_kib": per_call_kib,
        "tokens": after["token"] - before["token"],
        "service": after["service"] - before["service"],
    }


async def _growth(url: str, calls: int) -> dict[str, float]:
    """RSS of the default SDK over ``calls`` calls at c=64 after a 10% warm-up."""
    key = new_key()
    client = sdk_default(key, url)
    op = typed_op(client)
    marks = {calls // 10: "warm", calls // 2: "half", calls: "end"}
    samples: dict[str, float] = {}
    done = 0

    async def worker() -> None:
        nonlocal done
        while done < calls:
            done += 1
            mark = marks.get(done)
            await op()
            if mark is not None:
                samples[mark] = _rss_mib()

    await asyncio.gather(*(worker() for _ in range(64)))
    await client.aclose()
    return samples


def _spawn(*args: str) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.stampede", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def run(quick: bool = False) -> list[Report]:
    calls = 2_000 if quick else CALLS
    growth_calls = 20_000 if quick else GROWTH_CALLS
    # Five rounds: one burst pair reads anywhere in 0.89-1.21 cold/warm on this machine (the
    # same code, runs of sessions 7-9), so a ratio is the median of per-run ratios; with three
    # the median of the httpx cell read 0.93-1.21 across runs of nearby commits.
    rounds = 1 if quick else 5
    results: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    started = time.perf_counter()
    with counting_server() as url:
        for index in range(rounds):
            names = list(VARIANTS) if index % 2 == 0 else list(VARIANTS)[::-1]
            for name in names:
                results[name].append(_spawn(name, url, str(calls)))
        growth = _spawn("growth", url, str(growth_calls))
    report = Report(
        title=f"{calls:,} concurrent calls (real sockets, counting server)",
        setup=(
            f"{calls:,} typed qris.query calls started at once on a fresh client (cold: the SDK"
            " fetches its token inside the burst; floors fetch it first), then again (warm);"
            f" each variant in a fresh interpreter, {rounds} interleaved round(s), median;"
            " cold/warm is the median [min-max] of each run's own ratio."
            " Memory: VmHWM during the cold burst minus RSS before it, per call in flight;"
            " each result is dropped when its call ends (as a service does), and the SDK's"
            " code runs once on a throwaway client first (modules it loads on first use,"
            " readers it compiles), as the floors' code has run; the measured client is cold."
            f" Timeouts {TIMEOUT.total:.0f}s; limit {LIMIT_SECONDS:.0f}s per burst."
        ),
        columns=[
            "variant",
            "cold s",
            "warm s",
            "cold/warm",
            "token requests",
            "KiB per in-flight call",
            "memory vs floor",
        ],
    )

    def med(name: str, field: str) -> float:
        return statistics.median(result[field] for result in results[name])

    for name, (label, floor) in VARIANTS.items():
        cold, warm = med(name, "cold"), med(name, "warm")
        # Each run's cold burst against its own warm one (same process, back to back).
        per_run = ratios(
            [result["cold"] for result in results[name]],
            [result["warm"] for result in results[name]],
        )
        memory_ratio: object = ""
        if floor is not None:
            memory_ratio = med(name, "per_call_kib") / med(floor, "per_call_kib")
            report.checks.append(
                Check(f"{label}: memory per in-flight call / floor", memory_ratio, "<=", 1.1)
            )
        report.rows.append(
            [
                label,
                cold,
                warm,
                ratio_cell(per_run),
                int(med(name, "tokens")),
                med(name, "per_call_kib"),
                memory_ratio,
            ]
        )
        if name.startswith("sdk"):
            report.checks.append(
                Check(f"{label}: cold/warm", statistics.median(per_run), "<=", COLD_WARM_GOAL)
            )
            report.checks.append(
                Check(f"{label}: token requests", int(med(name, "tokens")), "==", 1)
            )
    report.notes.append(
        "Bare httpx without a semaphore is not run: with 10,000 requests queued inside"
        " httpcore's pool it does not finish (issue 15)."
    )
    grown = growth["end"] - growth["warm"]
    memory = Report(
        title=f"Memory growth over {growth_calls:,} calls",
        setup=(
            f"SDK, default transport, {growth_calls:,} typed calls at c=64 in a fresh interpreter;"
            " RSS (MiB) after 10% (warm-up), half-way and at the end."
        ),
        columns=["after warm-up", "half-way", "end", "growth after warm-up"],
        rows=[[growth["warm"], growth["half"], growth["end"], grown]],
        checks=[Check("RSS growth after warm-up, MiB", grown, "<=", GROWTH_GOAL_MIB)],
        notes=[f"({time.perf_counter() - started:.0f}s for this section)"],
    )
    return [report, memory]


if __name__ == "__main__":
    pin_client()
    if sys.argv[1] == "growth":
        print(json.dumps(asyncio.run(_growth(sys.argv[2], int(sys.argv[3])))))
    else:
        print(json.dumps(asyncio.run(_child(sys.argv[1], sys.argv[2], int(sys.argv[3])))))

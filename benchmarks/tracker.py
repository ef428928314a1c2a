"""The payment tracker: tracked payments/s (SQLite; PostgreSQL when ``AYOLINX_BENCH_POSTGRES_DSN``
is set), poll throughput held at the rate limit, and memory at 100,000 pending payments (flat:
pending rows live in the store, not in the process)."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from ayolinx_async._errors import AyolinxError
from ayolinx_async.tracking import PaymentTracker, PollSchedule

from ._report import Check, Report


class _Answering:
    """A status source that fails at once with a read-only error (the payment is rescheduled),
    so the poller's own cost and its rate limit are what is measured."""

    def __init__(self) -> None:
        self.calls = 0

    async def reconcile(  # the StatusSource signature
        self, reference: str, *, product: Any = None, channel: Any = None, timeout: Any = None
    ) -> Any:
        self.calls += 1
        raise AyolinxError("not yet")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _tracked_per_second(store: str, count: int) -> float:
    tracker = PaymentTracker(None, store=store, poll=False)
    await tracker.open()
    try:
        started = time.perf_counter()
        for i in range(count):
            await tracker.track(f"B{i:07d}", product="qris", amount="10000")
        return count / (time.perf_counter() - started)
    finally:
        await tracker.close()


async def _poll_rate(store: str, rate: float, seconds: float) -> float:
    """Queries/s the poller sustains over ``seconds`` with everything due (goal: the limit)."""
    source = _Answering()
    tracker = PaymentTracker(
        source, store=store, rate_limit=rate, schedule=PollSchedule.of([0.001, 3600]), grace=1e9
    )
    await tracker.open()
    for i in range(int(rate * seconds * 2)):
        await tracker.track(f"P{i:07d}", product="qris", amount="10000")
    await tracker.close()
    await anyio.sleep(0.01)
    async with tracker:
        source.calls = 0
        await anyio.sleep(seconds)
        calls = source.calls
    return calls / seconds


async def _pending_memory(store: str, count: int) -> tuple[float, float]:
    """Resident MiB after tracking 10,000 and after ``count`` pending payments."""
    tracker = PaymentTracker(None, store=store, poll=False)
    await tracker.open()
    try:
        small = 0.0
        for i in range(count):
            await tracker.track(f"M{i:07d}", product="qris", amount="10000")
            if i == 10_000:
                small = _rss_mib()
        await tracker.stats()
        return small, _rss_mib()
    finally:
        await tracker.close()


def run(quick: bool = False) -> list[Report]:
    count = 2_000 if quick else 10_000
    pending = 20_000 if quick else 100_000
    rate = 200.0
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[Sequence[object]] = []
        stores = {"SQLite (synchronous=FULL)": str(Path(tmp) / "t.db")}
        dsn = os.environ.get("AYOLINX_BENCH_POSTGRES_DSN")
        if dsn:
            stores["PostgreSQL"] = dsn
        for name, spec in stores.items():
            rows.append([f"track(), {name}", anyio.run(_tracked_per_second, spec, count)])
        seconds = 3.0 if quick else 10.0
        polled = anyio.run(_poll_rate, str(Path(tmp) / "p.db"), rate, seconds)
        rows.append([f"poll throughput at rate_limit={rate:.0f}/s", polled])
        small, large = anyio.run(_pending_memory, str(Path(tmp) / "m.db"), pending)
    report = Report(
        title="Payment tracker",
        setup=f"{count} tracked payments; polls against an in-process answer; memory as max RSS.",
        columns=["measure", "per second"],
        rows=rows,
    )
    # A token bucket allows the rate plus one burst (= one second's worth) over the window.
    ceiling = rate + rate / seconds
    report.checks.append(Check("poll rate / (rate + burst/window)", polled / ceiling, "<=", 1.05))
    report.checks.append(Check("poll rate / (rate + burst/window)", polled / ceiling, ">=", 0.8))
    report.checks.append(Check(f"RSS MiB growth 10k -> {pending} pending", large - small, "<=", 20))
    report.notes.append(f"max RSS {small:.0f} MiB at 10,000 pending, {large:.0f} at {pending}")
    return [report]

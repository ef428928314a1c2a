"""The tracker as real processes (``ayolinx tracker run``) against the simulator on a loopback
port: SIGKILL mid-run and restart (SQLite and PostgreSQL) loses nothing and re-delivers nothing
a listener finished; four pollers on one PostgreSQL share 2,000 payments under one rate limit,
each payment queried no faster than its backoff and finalized once."""

from __future__ import annotations

import bisect
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayolinx_async import AyolinxClient
from ayolinx_async._endpoints import Endpoint
from ayolinx_async.simulator import MerchantAccount, Simulator
from ayolinx_async.tracking import PaymentTracker, PollSchedule, TrackerStats
from tests.conftest import CLIENT_KEY, CLIENT_SECRET
from tests.scale._servers import serve_asgi

from ._postgres import fresh_database

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.parametrize("anyio_backend", ["asyncio"]),
]

ROOT = Path(__file__).resolve().parents[2]
QUERY_PATH = Endpoint.QRIS_QUERY.path


class QueryLog:
    """ASGI middleware in front of the simulator: when each QRIS query arrived, for which
    reference (the measurement point for the rate limit and the backoff)."""

    def __init__(self, app: Simulator) -> None:
        self.app = app
        self.queries: list[tuple[float, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != QUERY_PATH:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        self.queries.append((time.time(), json.loads(body)["originalPartnerReferenceNo"]))
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)


@contextmanager
def served(merchant_private_pem: bytes, pay_after: float) -> Iterator[tuple[QueryLog, str]]:
    account = MerchantAccount.from_keys(
        client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=merchant_private_pem
    )
    log = QueryLog(Simulator(account, auto_pay_after=pay_after, token_lifetime=3600))
    with serve_asgi(log) as base_url:
        yield log, base_url


def _environment(base_url: str, key_file: Path, outcomes: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYOLINX_")}
    env.update(
        AYOLINX_CLIENT_KEY=CLIENT_KEY,
        AYOLINX_CLIENT_SECRET=CLIENT_SECRET,
        AYOLINX_PRIVATE_KEY_FILE=str(key_file),
        AYOLINX_BASE_URL=base_url,
        TRACKER_TEST_OUTCOMES=str(outcomes),
        PYTHONPATH=str(ROOT),
    )
    return env


def _poller(
    store: str, env: dict[str, str], *, rate: float, schedule: str
) -> subprocess.Popen[str]:
    # fmt: off
    argv = [
        sys.executable, "-m", "ayolinx_async._cli", "tracker", "run", "--store", store,
        "--rate-limit", str(rate), "--schedule", schedule, "--idle-wait", "0.05",
        "--listener", "tests.tracking._listener:record", "--listener-timeout", "1",
        "--lease", "2",
    ]
    # fmt: on
    return subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


async def _create_and_track(
    base_url: str, key_file: Path, store: str, count: int, schedule: PollSchedule
) -> list[str]:
    """Create ``count`` QRIS payments on the simulator and track them in ``store``."""
    client = AyolinxClient.from_env()  # environment set by the caller
    references = [f"MP{i:05d}" for i in range(count)]
    tracker = PaymentTracker(client, store=store, poll=False, schedule=schedule)
    limiter = anyio.CapacityLimiter(32)

    async def create(reference: str) -> None:
        async with limiter:
            await client.qris.generate(partner_reference_no=reference, amount="10000")
            await tracker.track(reference, product="qris", amount="10000", channel="BNC_QRIS")

    async with client:
        await tracker.open()
        try:
            async with anyio.create_task_group() as tasks:
                for reference in references:
                    tasks.start_soon(create, reference)
        finally:
            await tracker.close()
    return references


async def _stats(store: str) -> TrackerStats:
    tracker = PaymentTracker(None, store=store, poll=False)
    await tracker.open()
    try:
        return await tracker.stats()
    finally:
        await tracker.close()


async def _wait_until_settled(store: str, count: int, timeout: float) -> TrackerStats:
    with anyio.fail_after(timeout):
        while True:
            stats = await _stats(store)
            if stats.final == count and stats.undelivered == 0:
                return stats
            await anyio.sleep(0.2)


def _lines(path: Path) -> list[tuple[str, str, int]]:
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [(ref, kind, int(pid)) for ref, kind, pid in rows]


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, err[-2000:]


@pytest.fixture
def key_file(tmp_path: Path, merchant_private_pem: bytes) -> Path:
    path = tmp_path / "merchant.pem"
    path.write_bytes(merchant_private_pem)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "payments.db")
    return await fresh_database(request.getfixturevalue("postgres_dsn"))


async def test_sigkill_mid_run_then_restart_loses_nothing_and_redelivers_nothing_done(
    store_spec: str,
    key_file: Path,
    merchant_private_pem: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count, outcomes = 300, tmp_path / "outcomes.txt"
    with served(merchant_private_pem, pay_after=0.3) as (_, base_url):
        env = _environment(base_url, key_file, outcomes)
        for name, value in env.items():
            if name.startswith("AYOLINX_"):
                monkeypatch.setenv(name, value)
        schedule = PollSchedule.of([0.2, 0.2, 0.5])
        references = await _create_and_track(base_url, key_file, store_spec, count, schedule)
        first = _poller(store_spec, env, rate=200.0, schedule="0.2,0.2,0.5")
        with anyio.fail_after(30):
            while len(_lines(outcomes)) < count // 3:
                assert first.poll() is None, first.communicate()[1][-2000:]
                await anyio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = len(_lines(outcomes))
        assert killed_at < count, "the kill landed mid-run"
        second = _poller(store_spec, env, rate=200.0, schedule="0.2,0.2,0.5")
        try:
            stats = await _wait_until_settled(store_spec, count, timeout=40)
        finally:
            _stop(second)
    assert stats.by_outcome == {"paid": count}
    assert stats.pending == 0
    lines = _lines(outcomes)
    seen = Counter(ref for ref, _, _ in lines)
    assert set(seen) == set(references), "no payment lost"
    assert {kind for _, kind, _ in lines} == {"paid"}
    # A listener that finished (its success recorded) is never called again. Only the few
    # deliveries in flight at the instant of the kill may repeat, and only across the kill.
    repeated = {ref for ref, n in seen.items() if n > 1}
    first_pid: dict[str, object] = {}
    for ref, _, pid in lines:
        first_pid.setdefault(ref, pid)
    assert all(first_pid[ref] == first.pid for ref in repeated)
    assert all(seen[ref] == 2 for ref in repeated)
    assert len(repeated) <= 10  # at most the poller's concurrency was in flight


async def test_four_pollers_on_one_postgres_share_2000_payments(
    postgres_dsn: str,
    key_file: Path,
    merchant_private_pem: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count, rate, min_gap = 2000, 400.0, 1.0
    store = await fresh_database(postgres_dsn)
    outcomes = tmp_path / "outcomes.txt"
    with served(merchant_private_pem, pay_after=2.0) as (log, base_url):
        env = _environment(base_url, key_file, outcomes)
        for name, value in env.items():
            if name.startswith("AYOLINX_"):
                monkeypatch.setenv(name, value)
        schedule = PollSchedule.of([min_gap, min_gap, 2.0])
        await _create_and_track(base_url, key_file, store, count, schedule)
        pollers = [_poller(store, env, rate=rate, schedule="1,1,2") for _ in range(4)]
        try:
            stats = await _wait_until_settled(store, count, timeout=60)
        finally:
            for poller in pollers:
                _stop(poller)
        queries = list(log.queries)
    assert stats.by_outcome == {"paid": count}
    lines = _lines(outcomes)
    assert Counter(ref for ref, _, _ in lines) == Counter({f"MP{i:05d}": 1 for i in range(count)})
    assert len({pid for _, _, pid in lines}) >= 3, "the pollers shared the work"
    # No payment queried twice within its backoff window (a little slack for the network).
    by_reference: dict[str, list[float]] = defaultdict(list)
    for at, reference in queries:
        by_reference[reference].append(at)
    gaps = [b - a for times in by_reference.values() for a, b in itertools.pairwise(times)]
    assert min(gaps, default=min_gap) >= min_gap - 0.15
    # The global rate limit, measured where it matters: at Ayolinx (the simulator).
    times = sorted(at for at, _ in queries)
    window, burst = 2.0, rate
    busiest = max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))
    assert busiest <= rate * window + burst + 0.05 * rate
    assert len(queries) >= count

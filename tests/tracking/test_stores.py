"""The store contract, on every store: compare-and-set once, disjoint claims, the outbox lease,
the shared token bucket, aliases, schema migration on reopen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from ayolinx_async._endpoints import PaymentProduct
from ayolinx_async.tracking import (
    MemoryTrackerStore,
    OutcomeKind,
    OutcomeSource,
    PaymentOutcome,
    PollSchedule,
    PostgresTrackerStore,
    SQLiteTrackerStore,
    TrackedPayment,
    TrackerStore,
)

from ._postgres import fresh_database

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TrackerStore]:
    made: TrackerStore
    if request.param == "memory":
        made = MemoryTrackerStore()
    elif request.param == "sqlite":
        made = SQLiteTrackerStore(tmp_path / "t.db")
    else:
        made = PostgresTrackerStore(await fresh_database(request.getfixturevalue("postgres_dsn")))
    await made.open()
    try:
        yield made
    finally:
        await made.close()


def _payment(reference: str, due: float = 100.0, **changes: object) -> TrackedPayment:
    return TrackedPayment(
        reference=reference,
        product=PaymentProduct.QRIS,
        amount=Decimal("10000"),
        created_at=0.0,
        expires_at=1000.0,
        poll_until=1600.0,
        next_poll_at=due,
        **changes,  # type: ignore[arg-type]
    )


def _outcome(reference: str, kind: OutcomeKind = OutcomeKind.PAID) -> PaymentOutcome:
    return PaymentOutcome(
        reference=reference,
        product=PaymentProduct.QRIS,
        kind=kind,
        source=OutcomeSource.POLL,
        decided_at=200.0,
        status="00",
        amount=Decimal("10000"),
        paid_amount=Decimal("10000.00"),
    )


async def test_finalize_is_a_compare_and_set_under_concurrency(store: TrackerStore) -> None:
    assert await store.add(_payment("P1"))
    assert not await store.add(_payment("P1"))
    wins: list[bool] = []

    async def decide(kind: OutcomeKind) -> None:
        wins.append(await store.finalize(_outcome("P1", kind)))

    async with anyio.create_task_group() as tasks:
        for i in range(20):
            tasks.start_soon(decide, OutcomeKind.PAID if i % 2 else OutcomeKind.FAILED)
    assert wins.count(True) == 1
    found = await store.outcome("P1")
    assert found is not None
    assert found[1] is False
    assert found[0].paid_amount == Decimal("10000.00")
    assert not await store.finalize(_outcome("UNKNOWN"))


async def test_concurrent_claims_are_disjoint_and_move_the_schedule(store: TrackerStore) -> None:
    for i in range(100):
        await store.add(_payment(f"P{i:03d}"))
    await store.add(_payment("LATER", due=500.0))
    schedule = PollSchedule.of([15, 60])
    batches: list[list[TrackedPayment]] = []

    async def claim() -> None:
        batches.append(await store.claim_polls(150.0, 30, schedule))

    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(claim)
    claimed = [p.reference for batch in batches for p in batch]
    assert len(claimed) == len(set(claimed)) == 100
    assert all(p.polls == 1 and p.next_poll_at == 210.0 for b in batches for p in b)
    assert await store.claim_polls(200.0, 100, schedule) == []  # leased by the new schedule
    again = await store.claim_polls(210.0, 500, schedule)
    assert len(again) == 100
    assert {p.next_poll_at for p in again} == {270.0}


async def test_the_outbox_lease_and_listener_bookkeeping(store: TrackerStore) -> None:
    await store.add(_payment("P1"))
    await store.finalize(_outcome("P1"))
    (first,) = await store.claim_deliveries(200.0, 10, lease=60.0)
    assert (first.attempt, first.done) == (1, frozenset())
    assert await store.claim_deliveries(250.0, 10, lease=60.0) == []  # leased
    await store.listener_done("P1", "ledger")
    await store.retry_delivery("P1", 300.0, "shipping: boom")
    (second,) = await store.claim_deliveries(300.0, 10, lease=60.0)
    assert (second.attempt, second.done) == (2, frozenset({"ledger"}))
    await store.delivered("P1")
    assert await store.claim_deliveries(10_000.0, 10, lease=60.0) == []
    stats = await store.stats()
    assert (stats.final, stats.undelivered, stats.by_outcome) == (1, 0, {"paid": 1})


async def test_the_token_bucket_and_aliases(store: TrackerStore) -> None:
    assert await store.take_tokens(1000.0, 10.0, 10.0, 50) == 10
    assert await store.take_tokens(1000.0, 10.0, 10.0, 50) == 0
    assert await store.take_tokens(1000.5, 10.0, 10.0, 50) == 5
    await store.refund_tokens(3, 10.0)
    assert await store.take_tokens(1000.5, 10.0, 10.0, 50) == 3
    await store.add(_payment("MINE", alias="LINK-77"))
    found = await store.find("LINK-77")
    assert found is not None
    assert found.reference == "MINE"
    assert await store.find("NOPE") is None


async def test_sqlite_survives_reopen_and_refuses_a_newer_schema(tmp_path: Path) -> None:
    import sqlite3

    from ayolinx_async._errors import ConfigurationError

    path = tmp_path / "t.db"
    first = SQLiteTrackerStore(path)
    await first.open()
    await first.add(_payment("P1"))
    await first.close()
    second = SQLiteTrackerStore(path)
    await second.open()
    assert await second.find("P1") is not None
    await second.close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version=99")
    with pytest.raises(ConfigurationError, match="schema 99"):
        await SQLiteTrackerStore(path).open()

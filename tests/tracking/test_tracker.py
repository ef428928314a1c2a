"""PaymentTracker behaviour: the outbox, amount mismatches, racing feeds, uncertain creates,
the rate limit and the pure rules (outcome judging, the poll schedule)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from ayolinx_async import OutcomeUnknownError
from ayolinx_async._errors import ConfigurationError, NotFoundError, ResponseCode, ServerError
from ayolinx_async._response import APIResponse
from ayolinx_async.models._common import TransactionStatusResponse
from ayolinx_async.simulator import Simulator
from ayolinx_async.tracking import (
    MemoryTrackerStore,
    OutcomeKind,
    OutcomeSource,
    PaymentOutcome,
    PaymentTracker,
    PollSchedule,
    SQLiteTrackerStore,
    TrackedPayment,
)
from ayolinx_async.tracking._model import judge
from ayolinx_async.tracking._stores import next_poll

from ._shop import AMOUNT, VirtualClock, shop

pytestmark = pytest.mark.anyio


class FakeAyolinx:
    """A ``reconcile`` that answers from a dict (reference -> status, amount) and counts."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.calls: list[str] = []

    async def reconcile(  # the StatusSource signature
        self, reference: str, *, product: Any = None, channel: Any = None, timeout: Any = None
    ) -> TransactionStatusResponse:
        self.calls.append(reference)
        answer = self.answers.get(reference, ("01", None))
        if isinstance(answer, Exception):
            raise answer
        status, amount = answer
        body: dict[str, Any] = {
            "responseCode": "2005100",
            "responseMessage": "Successful",
            "originalPartnerReferenceNo": reference,
            "latestTransactionStatus": status,
        }
        if amount is not None:
            body["amount"] = {"value": amount, "currency": "IDR"}
        api = APIResponse(
            http_status=200,
            response_code=ResponseCode("2005100"),
            response_message="Successful",
            body=body,
            raw=json.dumps(body).encode(),
        )
        return TransactionStatusResponse.from_response(api)


def _tracker(source: Any, clock: VirtualClock, **options: Any) -> PaymentTracker:
    options.setdefault("store", MemoryTrackerStore())
    return PaymentTracker(
        source, clock=clock, sleep=clock.sleep, rate_limit=1000.0, grace=60.0, **options
    )


async def test_a_listener_that_raises_gets_the_outcome_again_and_a_good_one_only_once() -> None:
    clock, ayolinx = VirtualClock(), FakeAyolinx()
    tracker = _tracker(ayolinx, clock)
    seen: list[str] = []
    failures = iter([RuntimeError("db down"), RuntimeError("db down"), None])

    @tracker.on_outcome(name="ledger")
    async def ledger(outcome: PaymentOutcome) -> None:
        seen.append(f"ledger:{outcome.reference}")

    @tracker.on_outcome(name="shipping")
    async def shipping(outcome: PaymentOutcome) -> None:
        failure = next(failures)
        if failure is not None:
            raise failure
        seen.append(f"ship:{outcome.reference}")

    await tracker.open()
    await tracker.track("ORD1", product="qris", amount=AMOUNT)
    ayolinx.answers["ORD1"] = ("00", "25000.00")
    await clock.sleep(15)
    assert await tracker.poll_due() == 1
    assert seen == ["ledger:ORD1"]  # shipping raised: outcome stays in the outbox
    assert (await tracker.stats()).undelivered == 1
    assert await tracker.deliver_due() == 0  # not yet due again (5 s backoff)
    await clock.sleep(5)
    assert await tracker.deliver_due() == 0  # raised again
    await clock.sleep(30)
    assert await tracker.deliver_due() == 1
    assert seen == ["ledger:ORD1", "ship:ORD1"]  # the ledger was not called twice
    await clock.sleep(3600)
    assert await tracker.deliver_due() == 0
    assert (await tracker.stats()).undelivered == 0
    await tracker.close()


async def test_an_amount_mismatch_is_its_own_outcome_never_paid() -> None:
    clock, ayolinx = VirtualClock(), FakeAyolinx()
    tracker = _tracker(ayolinx, clock)
    outcomes: list[PaymentOutcome] = []
    tracker.on_outcome(_collect(outcomes), name="c")
    await tracker.open()
    await tracker.track("ORD2", product="retail", amount="25000", channel="RETAIL_ALFAMIDI")
    ayolinx.answers["ORD2"] = ("00", "2500.00")
    await clock.sleep(15)
    await tracker.poll_due()
    (outcome,) = outcomes
    assert outcome.kind is OutcomeKind.AMOUNT_MISMATCH
    assert not outcome.is_paid
    assert (outcome.amount, outcome.paid_amount) == (Decimal("25000"), Decimal("2500.00"))
    assert "25000" in outcome.detail
    assert "2500.00" in outcome.detail


async def test_an_amount_mismatch_by_callback_through_the_simulator() -> None:
    async with shop("memory", drop=0.0) as s:
        # The order says 3,000 but the QR asked for 30,000 (a bug upstream): never "paid".
        await s.create("qris", "ORDMISMATCH", amount=Decimal("30000"), tracked=Decimal("3000"))
        await s.sim.pay("ORDMISMATCH")
        (outcome,) = s.outcomes
        assert outcome.kind is OutcomeKind.AMOUNT_MISMATCH
        assert outcome.source is OutcomeSource.CALLBACK
        assert outcome.paid_amount == Decimal("30000.00")


def _collect(into: list[PaymentOutcome]) -> Any:
    async def collect(outcome: PaymentOutcome) -> None:
        into.append(outcome)

    return collect


async def test_callback_and_poll_racing_decide_once(tmp_path: Path) -> None:
    store = SQLiteTrackerStore(tmp_path / "race.db")
    async with shop(store, drop=0.0) as s:
        for i in range(20):
            await s.create("qris", f"RACE{i}")
        await s.clock.sleep(15)
        async with anyio.create_task_group() as tasks:
            for i in range(20):
                tasks.start_soon(s.sim.pay, f"RACE{i}")
            tasks.start_soon(s.tracker.poll_due)
            tasks.start_soon(s.tracker.poll_due)
        references = sorted(o.reference for o in s.outcomes)
        assert references == sorted(f"RACE{i}" for i in range(20))
        assert all(o.kind is OutcomeKind.PAID for o in s.outcomes)


async def test_an_uncertain_create_is_resolved_by_polling() -> None:
    clock, ayolinx = VirtualClock(), FakeAyolinx()
    tracker = _tracker(ayolinx, clock)
    outcomes: list[PaymentOutcome] = []
    tracker.on_outcome(_collect(outcomes), name="c")
    await tracker.open()
    error = OutcomeUnknownError(
        path="/v1.0/qr/qr-mpm-generate",
        external_id="X1",
        partner_reference_no="ORD3",
        attempts=1,
        cause=TimeoutError(),
    )
    payment = await tracker.track_unknown(error, amount="10000")
    assert payment.uncertain
    assert payment.product.value == "qris"
    ayolinx.answers["ORD3"] = NotFoundError(
        http_status=404, response_code=ResponseCode("4045101"), message="not found"
    )
    await clock.sleep(15)
    await tracker.poll_due()
    assert outcomes == []
    ayolinx.answers["ORD3"] = ("00", "10000")
    await clock.sleep(60)
    await tracker.poll_due()
    assert [o.kind for o in outcomes] == [OutcomeKind.PAID]


async def test_failed_queries_retry_on_schedule_and_never_guess() -> None:
    clock, ayolinx = VirtualClock(), FakeAyolinx()
    tracker = _tracker(ayolinx, clock, schedule=PollSchedule.of([10, 20]))
    outcomes: list[PaymentOutcome] = []
    tracker.on_outcome(_collect(outcomes), name="c")
    await tracker.open()
    await tracker.track("ORD4", product="ewallet", amount=1, expires_at=clock.now + 100)
    ayolinx.answers["ORD4"] = ServerError(
        http_status=500, response_code=ResponseCode("5005501"), message="down"
    )
    for _ in range(30):
        await clock.sleep(10)
        await tracker.poll_due()
    # Past expiry plus grace, but every query failed: still pending, still asked.
    assert outcomes == []
    assert (await tracker.stats()).pending == 1
    ayolinx.answers.pop("ORD4")  # Ayolinx answers again: still Initiated
    await clock.sleep(20)
    await tracker.poll_due()
    assert [o.kind for o in outcomes] == [OutcomeKind.UNRESOLVED]
    assert outcomes[0].source is OutcomeSource.DEADLINE
    assert "back office" in outcomes[0].detail


async def test_the_backoff_schedule_is_followed_and_capped_at_the_deadline() -> None:
    clock, ayolinx = VirtualClock(), FakeAyolinx()
    tracker = _tracker(ayolinx, clock)
    await tracker.open()
    start = clock.now
    await tracker.track("ORD5", product="qris", amount=1, expires_at=start + 600)
    times: list[float] = []
    while clock.now < start + 2000:
        if await tracker.poll_due():
            times.append(clock.now - start)
        await clock.sleep(1)
    # 15 s, then +60, +300, then capped at expiry + grace (600 + 60): unresolved there.
    assert times == [15, 75, 375, 660]
    assert (await tracker.outcome("ORD5")).kind is OutcomeKind.UNRESOLVED  # type: ignore[union-attr]


async def test_the_rate_limit_bounds_queries_per_second() -> None:
    clock, ayolinx = VirtualClock(), FakeAyolinx()
    tracker = PaymentTracker(
        ayolinx, store="memory", clock=clock, sleep=clock.sleep, rate_limit=5.0, burst=5
    )
    await tracker.open()
    for i in range(50):
        await tracker.track(f"R{i}", product="qris", amount=1)
    await clock.sleep(15)
    per_second = []
    for _ in range(10):
        before = len(ayolinx.calls)
        await tracker.poll_due()
        await tracker.poll_due()
        per_second.append(len(ayolinx.calls) - before)
        await clock.sleep(1)
    assert per_second == [5] * 10


async def test_tracking_is_idempotent_and_validated() -> None:
    tracker = PaymentTracker(None, store="memory", poll=False)
    await tracker.open()
    first = await tracker.track("ORD6", product="qris", amount="100")
    again = await tracker.track("ORD6", product="qris", amount="999")
    assert again == first
    with pytest.raises(Exception, match="product"):
        await tracker.track("ORD7", product="cash")
    with pytest.raises(Exception, match="reference"):
        await tracker.track(" ", product="qris")
    with pytest.raises(ConfigurationError):
        PaymentTracker(None, store="memory", rate_limit=0)


def _payment(**changes: Any) -> TrackedPayment:
    values: dict[str, Any] = {
        "reference": "R",
        "product": "qris",
        "amount": Decimal("100"),
        "created_at": 0.0,
        "expires_at": 1000.0,
        "poll_until": 1600.0,
    }
    values.update(changes)
    from ayolinx_async._endpoints import PaymentProduct

    values["product"] = PaymentProduct(values["product"])
    return TrackedPayment(**values)


@pytest.mark.parametrize(
    ("status", "paid", "description", "now", "expected"),
    [
        ("00", "100.00", None, 0, OutcomeKind.PAID),
        ("00", None, None, 0, OutcomeKind.PAID),
        ("00", "99", None, 0, OutcomeKind.AMOUNT_MISMATCH),
        ("06", None, "Failed", 0, OutcomeKind.FAILED),
        ("05", None, "Expired", 0, OutcomeKind.EXPIRED),
        ("05", None, None, 0, OutcomeKind.CANCELED),
        ("05", None, None, 1000, OutcomeKind.EXPIRED),
        ("04", None, None, 0, OutcomeKind.REFUNDED),
        ("01", None, None, 0, None),
        ("02", None, None, 0, None),
        ("07", None, None, 0, None),
        ("08", None, None, 0, None),
    ],
)
def test_judge(
    status: str, paid: str | None, description: str | None, now: float, expected: Any
) -> None:
    amount = Decimal(paid) if paid is not None else None
    verdict = judge(_payment(), status, paid_amount=amount, description=description, now=now)
    assert (verdict[0] if verdict else None) is expected


def test_open_amount_virtual_accounts_accept_any_amount() -> None:
    payment = _payment(product="virtual_account", amount=Decimal(0))
    assert judge(payment, "00", paid_amount=Decimal("123")) == (OutcomeKind.PAID, "")


def test_next_poll_is_the_backoff_capped_at_the_deadline() -> None:
    schedule = PollSchedule.of([15, 60])
    assert next_poll(_payment(polls=0), 100, schedule) == 160
    assert next_poll(_payment(polls=5), 100, schedule) == 160
    assert next_poll(_payment(polls=5), 1590, schedule) == 1600
    assert next_poll(_payment(polls=5), 1600, schedule) == 1660  # past it: retried if crashed


async def test_track_true_uses_the_clients_own_tracker() -> None:
    """``create(..., track=True)``: the tracker made with ``PaymentTracker(client, ...)``."""
    async with Simulator() as sim, sim.client() as client:
        with pytest.raises(ConfigurationError, match="track=True needs a tracker"):
            await client.qris.generate(partner_reference_no="ORD-T0", amount=1000, track=True)
        tracker = PaymentTracker(client, store="memory")
        assert client.tracker is tracker
        await client.qris.generate(partner_reference_no="ORD-T1", amount=1000, track=True)
        await client.qris.generate(partner_reference_no="ORD-T2", amount=1000, track=False)
        await tracker.open()
        assert await tracker.store.find("ORD-T1") is not None
        assert await tracker.store.find("ORD-T2") is None

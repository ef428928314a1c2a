"""The simulator's callback-loss knob (``Faults(drop_callbacks=...)``, also ``dropCallbacks`` on
``POST /_simulator/faults``): callbacks are never delivered, and the tracker still learns every
outcome by polling (issue 18)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest

from ayolinx_async.simulator import Faults, Simulator
from ayolinx_async.tracking import OutcomeKind, PaymentOutcome, PaymentTracker, PollSchedule

pytestmark = pytest.mark.anyio
NOTIFY = "http://merchant.test/ayolinx/notify"


async def test_dropped_callbacks_are_never_delivered_and_polling_finds_the_outcome() -> None:
    async with Simulator(faults=Faults(drop_callbacks=1.0)) as sim, sim.client() as client:
        outcomes: list[PaymentOutcome] = []
        tracker = PaymentTracker(client, store="memory", schedule=PollSchedule.of([0.001, 60.0]))
        tracker.on_outcome(_append(outcomes))
        await tracker.open()
        await client.qris.generate(
            partner_reference_no="ORD-LOSSY-1", amount=25000, notification_url=NOTIFY, track=True
        )
        paid = await sim.pay("ORD-LOSSY-1")
        await sim.drain(timeout=5)
        assert sim.deliveries(paid.reference_no) == []  # Ayolinx never called the merchant
        await anyio.sleep(0.01)  # the first poll is due 1 ms after tracking
        assert await tracker.poll_due() == 1
        await tracker.deliver_due()
        (outcome,) = outcomes
        assert outcome.kind is OutcomeKind.PAID
        await tracker.close()


async def test_the_knob_is_a_form_control_on_the_admin_route() -> None:
    async with Simulator() as sim:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="http://sim")
        async with http:
            answer = await http.post("/_simulator/faults", json={"dropCallbacks": 0.5})
            assert answer.status_code == 200
            assert answer.json()["dropCallbacks"] == 0.5
            refused = await http.post("/_simulator/faults", json={"dropCallbacks": 2})
            assert refused.status_code == 400
    assert sim.faults.drop_callbacks == 0.5


def _append(into: list[PaymentOutcome]) -> Callable[[PaymentOutcome], Awaitable[None]]:
    async def append(outcome: PaymentOutcome) -> None:
        into.append(outcome)

    return append

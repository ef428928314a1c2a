"""The payment tracker's gauges (issue 16): pending count and the oldest pending age, read from
the store while the tracker polls; absent when telemetry is off."""

from __future__ import annotations

import pytest

from ayolinx_async.tracking import PaymentTracker
from ayolinx_async.tracking._metrics import PENDING, PENDING_AGE
from tests.telemetry.conftest import Otel

pytestmark = pytest.mark.anyio


class _Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_pending_count_and_oldest_age_are_gauges(otel: Otel) -> None:
    clock = _Clock()
    tracker = PaymentTracker(
        None, store="memory", clock=clock, telemetry=True, meter_provider=otel.meter_provider
    )
    await tracker.open()
    try:
        await tracker.track("ORD-G1", product="qris", amount="10000")
        clock.now += 30
        await tracker.track("ORD-G2", product="qris", amount="20000")
        clock.now += 10
        assert tracker.gauges is not None
        await tracker.gauges.refresh(force=True)
        (pending,) = otel.points(PENDING)
        (age,) = otel.points(PENDING_AGE)
        assert pending.value == 2
        assert age.value == pytest.approx(40.0)
    finally:
        await tracker.close()


async def test_no_gauges_when_telemetry_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AYOLINX_OTEL", raising=False)
    tracker = PaymentTracker(None, store="memory")
    assert tracker.gauges is None

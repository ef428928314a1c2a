"""The tracker's gauges (``[otel]``, ``telemetry=True``): how many payments are pending and how
old the oldest one is. OpenTelemetry reads gauges synchronously, the store is async: the tracker
refreshes a snapshot while it polls (at most every ``interval`` seconds) and the gauges read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .._telemetry import telemetry_wanted
from ._model import TrackerStats

__all__ = ["PENDING", "PENDING_AGE", "TrackerGauges"]

PENDING = "ayolinx.tracker.pending"
PENDING_AGE = "ayolinx.tracker.pending.oldest_age"


class TrackerGauges:
    """A snapshot of the store's pending count and oldest age, exposed as two gauges."""

    def __init__(
        self,
        stats: Callable[[], Awaitable[TrackerStats]],
        clock: Callable[[], float],
        *,
        meter_provider: Any = None,
        interval: float = 5.0,
    ) -> None:
        from opentelemetry import metrics  # the [otel] extra; checked by build()

        from .._version import __version__

        self._stats, self._clock, self._interval = stats, clock, interval
        self._refreshed_at: float | None = None
        self.pending = 0
        self.oldest_age = 0.0
        meter = metrics.get_meter("ayolinx_async", __version__, meter_provider)
        meter.create_observable_gauge(
            PENDING,
            callbacks=[lambda _: [metrics.Observation(self.pending)]],
            unit="{payment}",
            description="Payments tracked and still waiting for their outcome",
        )
        meter.create_observable_gauge(
            PENDING_AGE,
            callbacks=[lambda _: [metrics.Observation(self.oldest_age)]],
            unit="s",
            description="Age of the oldest pending payment",
        )

    @classmethod
    def build(
        cls,
        setting: bool | None,
        stats: Callable[[], Awaitable[TrackerStats]],
        clock: Callable[[], float],
        meter_provider: Any = None,
    ) -> TrackerGauges | None:
        """The gauges when telemetry is on (``telemetry=True`` or ``AYOLINX_OTEL=1``)."""
        if not telemetry_wanted(setting):
            return None
        from .._telemetry import build_telemetry

        build_telemetry(True)  # raises the ConfigurationError naming the extra if it is missing
        return cls(stats, clock, meter_provider=meter_provider)

    async def refresh(self, *, force: bool = False) -> None:
        """Read the store again when the snapshot is older than ``interval``."""
        now = self._clock()
        fresh = self._refreshed_at is not None and now - self._refreshed_at < self._interval
        if fresh and not force:
            return
        found = await self._stats()
        self._refreshed_at = now
        self.pending = found.pending
        oldest = found.oldest_pending_at
        self.oldest_age = max(0.0, now - oldest) if oldest is not None else 0.0

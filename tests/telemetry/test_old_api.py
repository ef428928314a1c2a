"""Telemetry on an opentelemetry-api older than 1.30, whose ``create_histogram`` has no bucket
advisory: the duration histograms fall back to the exporter's buckets, never a ``TypeError``
when ``telemetry=True`` is switched on."""

from __future__ import annotations

from typing import Any

from ayolinx_async._telemetry import _names as n
from ayolinx_async._telemetry._otel import _seconds


class _OldMeter:
    """``create_histogram`` as opentelemetry-api 1.25-1.29 declares it."""

    def __init__(self) -> None:
        self.made: list[dict[str, Any]] = []

    def create_histogram(self, name: str, unit: str = "", description: str = "") -> object:
        self.made.append({"name": name, "unit": unit, "description": description})
        return object()


class _NewMeter(_OldMeter):
    """``create_histogram`` as 1.30+ declares it (with the bucket advisory)."""

    def create_histogram(
        self,
        name: str,
        unit: str = "",
        description: str = "",
        *,
        explicit_bucket_boundaries_advisory: Any = None,
    ) -> object:
        self.made.append({"name": name, "buckets": explicit_bucket_boundaries_advisory})
        return object()


def test_an_old_api_gets_a_histogram_without_the_advisory() -> None:
    meter = _OldMeter()
    _seconds(meter, "ayolinx.call.duration", "calls")  # type: ignore[arg-type]
    assert meter.made == [{"name": "ayolinx.call.duration", "unit": "s", "description": "calls"}]


def test_a_new_api_gets_the_sdk_buckets() -> None:
    meter = _NewMeter()
    _seconds(meter, "ayolinx.call.duration", "calls")  # type: ignore[arg-type]
    assert meter.made == [{"name": "ayolinx.call.duration", "buckets": n.DURATION_BUCKETS}]

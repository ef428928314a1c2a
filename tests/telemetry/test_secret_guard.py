"""The telemetry secret guard really looks at span attributes, span events and metric labels."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import metrics, trace

from tests.conftest import CLIENT_SECRET
from tests.reliability._secret_watch import find_leaks, telemetry_texts
from tests.telemetry.conftest import Otel


def test_a_secret_in_any_exported_place_is_found() -> None:
    places: dict[str, Callable[[trace.Span, metrics.Meter], None]] = {
        "attribute": lambda span, meter: span.set_attribute("x", CLIENT_SECRET),
        "event": lambda span, meter: span.add_event("e", {"k": CLIENT_SECRET}),
        "status": lambda span, meter: span.set_status(trace.StatusCode.ERROR, CLIENT_SECRET),
        "metric label": lambda span, meter: meter.create_counter("c").add(1, {"k": CLIENT_SECRET}),
    }
    for name, leak in places.items():
        otel = Otel()
        meter = otel.meter_provider.get_meter("t")
        with otel.tracer_provider.get_tracer("t").start_as_current_span("s") as span:
            leak(span, meter)
        found = find_leaks({CLIENT_SECRET}, telemetry_texts(otel.spans(), otel.collect()))
        assert found == [CLIENT_SECRET], name

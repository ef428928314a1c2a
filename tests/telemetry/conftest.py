"""In-memory OpenTelemetry providers for the telemetry tests, and the secret guard over what
they would export (span attributes and metric labels)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import CLIENT_SECRET
from tests.reliability._secret_watch import (
    SecretWatch,
    find_leaks,
    private_key_lines,
    telemetry_texts,
)


class Otel:
    """A tracer provider and a meter provider that keep everything in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self._metrics: Any = None

    @property
    def providers(self) -> dict[str, Any]:
        """The keywords that point a client or handler at these providers."""
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.name == name]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """``parent``'s direct children, in start order."""
        assert parent.context is not None
        found = [
            span
            for span in self.spans()
            if span.parent is not None and span.parent.span_id == parent.context.span_id
        ]
        return sorted(found, key=lambda span: span.start_time or 0)

    def collect(self) -> Any:
        self._metrics = self.reader.get_metrics_data()
        return self._metrics

    def points(self, name: str) -> list[Any]:
        """The data points of metric ``name`` (collected now)."""
        data = self.collect()
        found: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += list(metric.data.data_points)
        return found

    def counts(self, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
        """Metric ``name`` as {labels: value} (a histogram's value is its count)."""
        return {
            frozenset((point.attributes or {}).items()): getattr(point, "value", None)
            if hasattr(point, "value")
            else point.count
            for point in self.points(name)
        }


def labels(values: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    """A metric point's attributes as :meth:`Otel.counts` keys them."""
    return frozenset(values.items())


@pytest.fixture
def otel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    """In-memory providers; at teardown no secret the test handled may appear in any span
    attribute, span event or metric label."""
    watch = SecretWatch()
    watch.install(monkeypatch)
    found = Otel()
    yield found
    secrets = set(watch.secrets) | {CLIENT_SECRET}
    for name in ("merchant_key", "ayolinx_key"):
        if name in request.fixturenames:
            secrets.update(private_key_lines(request.getfixturevalue(name)))
    leaks = find_leaks(secrets, telemetry_texts(found.spans(), found.collect()))
    if leaks:
        pytest.fail("secret text leaked into telemetry: " + ", ".join(s[:6] + "…" for s in leaks))

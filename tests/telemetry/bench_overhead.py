"""Per-call overhead of telemetry: ``python -m tests.telemetry.bench_overhead [off|on|none]``.

Sequential read calls against an in-process fake (httpx.MockTransport), best of five rounds.
``none`` runs on whatever ``ayolinx_async`` is importable (point PYTHONPATH at a tree without
the telemetry code for the baseline); ``on`` exports to a discarding span exporter and an
in-memory metric reader, as a service with an OTLP exporter would do the work.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import anyio
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient, Credentials, HttpxTransport

QUERY = "/v1.0/qr/qr-mpm-query"
CALLS = 2000
ROUNDS = 5


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("access-token/b2b"):
        body = {"responseCode": "2007300", "accessToken": "t" * 40, "expiresIn": "900"}
    else:
        body = {"responseCode": "2005100", "responseMessage": "Successful"}
    return httpx.Response(200, content=json.dumps(body).encode())


def _telemetry_options(mode: str) -> dict[str, Any]:
    if mode == "none":
        return {}
    if mode == "off":
        return {"telemetry": False}
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class _Discard(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_Discard()))
    return {
        "telemetry": True,
        "tracer_provider": tracer_provider,
        "meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]),
    }


async def _run(mode: str) -> float:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    credentials = Credentials(client_key="CK-bench", client_secret="SK-bench-0123", private_key=pem)
    transport = HttpxTransport(transport=httpx.MockTransport(_answer))
    best = float("inf")
    async with AyolinxClient(
        credentials, base_url="https://gw.test", transport=transport, **_telemetry_options(mode)
    ) as client:
        await client.request(QUERY, {}, idempotent=True)  # token and warm-up
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(CALLS):
                await client.request(QUERY, {"originalPartnerReferenceNo": "R"}, idempotent=True)
            best = min(best, (time.perf_counter() - started) / CALLS)
    return best


if __name__ == "__main__":
    chosen = sys.argv[1] if len(sys.argv) > 1 else "off"
    print(f"{chosen} {anyio.run(_run, chosen) * 1e6:.1f} us/call")

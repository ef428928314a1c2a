"""Server spans and metrics of the callback handler, from the in-memory exporters."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._telemetry import _names as n
from ayolinx_async.callbacks import CallbackEvent, CallbackHandler
from tests.callbacks._helpers import (
    NOTIFY_PATH,
    FakeClock,
    make_handler,
    notify_headers,
    qris_body,
    send_notify,
)
from tests.telemetry.conftest import Otel, labels

pytestmark = pytest.mark.anyio


def _handler(ayolinx_key: rsa.RSAPrivateKey, otel: Otel, **options: Any) -> CallbackHandler:
    return make_handler(ayolinx_key, FakeClock(), telemetry=True, **otel.providers, **options)


async def test_accepted_then_duplicate_callback(ayolinx_key: rsa.RSAPrivateKey, otel: Otel) -> None:
    async def slow_listener(event: CallbackEvent) -> None:
        await anyio.sleep(0.01)

    handler = _handler(ayolinx_key, otel, on_event=slow_listener)
    body = qris_body()
    assert (await send_notify(handler, ayolinx_key, FakeClock(), body)).status == 200
    assert (await send_notify(handler, ayolinx_key, FakeClock(), body)).status == 200
    accepted, duplicate = otel.named("ayolinx callback notify")
    attributes = dict(accepted.attributes or {})
    waited = attributes.pop(n.CALLBACK_LISTENER_DURATION)
    assert isinstance(waited, float)
    assert waited >= 0.009
    assert attributes == {
        n.HTTP_METHOD: "POST",
        n.CALLBACK_ROUTE: "notify",
        n.CALLBACK_VERIFIED: True,
        n.CALLBACK_EVENT_TYPE: "QrisNotification",
        n.CALLBACK_DEDUPE: "new",
        n.HTTP_STATUS: 200,
        n.CALLBACK_RESULT: "accepted",
    }
    assert dict(duplicate.attributes or {}) == {
        **{k: v for k, v in attributes.items() if k != n.CALLBACK_RESULT},
        n.CALLBACK_DEDUPE: "duplicate",
        n.CALLBACK_RESULT: "duplicate",
    }
    assert otel.counts(n.METRIC_CALLBACKS) == {
        labels({n.CALLBACK_ROUTE: "notify", n.CALLBACK_RESULT: "accepted"}): 1,
        labels({n.CALLBACK_ROUTE: "notify", n.CALLBACK_RESULT: "duplicate"}): 1,
    }
    assert otel.counts(n.METRIC_DEDUPE_HITS) == {
        labels({n.CALLBACK_ROUTE: "notify", n.CALLBACK_DEDUPE: "duplicate"}): 1
    }
    assert otel.counts(n.METRIC_LISTENER_DURATION) == {
        labels({n.CALLBACK_ROUTE: "notify", n.CALLBACK_EVENT_TYPE: "QrisNotification"}): 1
    }


async def test_rejected_callback_says_why(ayolinx_key: rsa.RSAPrivateKey, otel: Otel) -> None:
    handler = _handler(ayolinx_key, otel)
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, FakeClock().stamp())
    tampered = body.replace(b"20000.00", b"90000.00")
    response = await handler("POST", NOTIFY_PATH, headers, tampered)
    assert response.status == 401
    (span,) = otel.spans()
    assert dict(span.attributes or {}) == {
        n.HTTP_METHOD: "POST",
        n.CALLBACK_ROUTE: "notify",
        n.CALLBACK_VERIFIED: False,
        n.CALLBACK_REJECTED_REASON: "bad_signature",
        n.HTTP_STATUS: 401,
        n.CALLBACK_RESULT: "rejected",
    }
    assert otel.counts(n.METRIC_CALLBACKS) == {
        labels({n.CALLBACK_ROUTE: "notify", n.CALLBACK_RESULT: "rejected"}): 1
    }


async def test_unknown_path_is_counted_without_its_path(
    ayolinx_key: rsa.RSAPrivateKey, otel: Otel
) -> None:
    handler = _handler(ayolinx_key, otel)
    response = await handler("POST", "/secret-notify-path-123", {}, b"{}")
    assert response.status == 404
    (span,) = otel.spans()
    assert span.name == "ayolinx callback"
    assert "secret-notify-path-123" not in repr(dict(span.attributes or {}))
    assert otel.counts(n.METRIC_CALLBACKS) == {
        labels({n.CALLBACK_ROUTE: "unknown", n.CALLBACK_RESULT: "rejected"}): 1
    }


async def test_a_failing_listener_is_a_failed_callback(
    ayolinx_key: rsa.RSAPrivateKey, otel: Otel
) -> None:
    async def broken(event: CallbackEvent) -> None:
        raise RuntimeError("database down")

    handler = _handler(ayolinx_key, otel, on_event=broken)
    response = await send_notify(handler, ayolinx_key, FakeClock(), qris_body())
    assert response.status == 500
    (span,) = otel.spans()
    assert span.attributes is not None
    assert span.attributes[n.CALLBACK_RESULT] == "failed"
    assert span.attributes[n.ERROR_TYPE] == "500"
    assert n.CALLBACK_LISTENER_DURATION in span.attributes

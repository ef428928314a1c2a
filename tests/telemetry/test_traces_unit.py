"""The trace objects against their own interface: span names, parents, attributes, metrics."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from ayolinx_async import OutcomeUnknownError, ReadTimeoutError, ServerError
from ayolinx_async._errors import ResponseCode
from ayolinx_async._telemetry import _names as n
from ayolinx_async._telemetry import build_telemetry
from ayolinx_async._telemetry._otel import Telemetry
from tests.telemetry.conftest import Otel, labels

QUERY = "/v1.0/qr/qr-mpm-query"
GENERATE = "/v1.0/qr/qr-mpm-generate"


def _telemetry(otel: Otel, **options: object) -> Telemetry:
    found = build_telemetry(True, base_url="https://u:p@gw.test/", **otel.providers, **options)  # type: ignore[arg-type]
    assert found is not None
    return found


def _server_error() -> ServerError:
    return ServerError(
        http_status=500,
        response_code=ResponseCode.parse("5005101"),
        message="General Error",
        path=QUERY,
    )


def test_a_retried_read_is_one_call_span_over_two_attempt_spans(otel: Otel) -> None:
    tel = _telemetry(otel)
    with tel.call(QUERY, money_moving=False) as call:
        call.attempt_started(1, "ext-1")
        call.attempt_failed(_server_error(), "retry")
        call.attempt_started(2, "ext-1")
        call.attempt_ok(200, "2005100")
    (root,) = otel.named("ayolinx qris.query")
    assert root.parent is None
    assert root.kind is trace.SpanKind.INTERNAL
    assert dict(root.attributes or {}) == {
        n.OPERATION: "qris.query",
        n.MONEY_MOVING: False,
        n.OUTCOME: "ok",
        n.ATTEMPTS: 2,
        n.EXTERNAL_ID: "ext-1",
        n.RESPONSE_CODE: "2005100",
    }
    first, second = otel.children(root)
    common = {
        n.HTTP_METHOD: "POST",
        n.URL_FULL: "https://gw.test" + QUERY,
        n.SERVER_ADDRESS: "gw.test",
        n.SERVER_PORT: 443,
        n.OPERATION: "qris.query",
        n.MONEY_MOVING: False,
        n.EXTERNAL_ID: "ext-1",
    }
    assert first.name == second.name == "POST"
    assert first.kind is trace.SpanKind.CLIENT
    assert dict(first.attributes or {}) == {
        **common,
        n.ATTEMPT: 1,
        n.HTTP_STATUS: 500,
        n.RESPONSE_CODE: "5005101",
        n.ERROR_TYPE: "ServerError",
        n.OUTCOME: "failed",
    }
    assert first.status.status_code is trace.StatusCode.ERROR
    assert dict(second.attributes or {}) == {
        **common,
        n.ATTEMPT: 2,
        n.HTTP_STATUS: 200,
        n.RESPONSE_CODE: "2005100",
        n.OUTCOME: "ok",
    }
    assert otel.counts(n.METRIC_RETRIES) == {
        labels({n.OPERATION: "qris.query", n.RETRY_ACTION: "retry"}): 1
    }
    assert otel.counts(n.METRIC_CALL_DURATION) == {
        labels({n.OPERATION: "qris.query", n.OUTCOME: "ok"}): 1
    }


def test_an_unknown_outcome_marks_attempt_and_call_and_counts(otel: Otel) -> None:
    tel = _telemetry(otel)
    cause = ReadTimeoutError("read timed out")

    def create() -> None:
        with tel.call(GENERATE, money_moving=True) as call:
            call.attempt_started(1, "ext-9")
            call.attempt_failed(cause, "outcome_unknown")
            raise OutcomeUnknownError(
                path=GENERATE,
                external_id="ext-9",
                partner_reference_no="R",
                attempts=1,
                cause=cause,
            )

    with pytest.raises(OutcomeUnknownError):
        create()
    (root,) = otel.named("ayolinx qris.generate")
    (attempt,) = otel.children(root)
    assert root.attributes is not None
    assert attempt.attributes is not None
    assert root.attributes[n.OUTCOME] == "unknown"
    assert root.attributes[n.ERROR_TYPE] == "OutcomeUnknownError"
    assert attempt.attributes[n.OUTCOME] == "unknown"
    assert attempt.attributes[n.ERROR_TYPE] == "ReadTimeoutError"
    assert n.HTTP_STATUS not in attempt.attributes
    assert otel.counts(n.METRIC_OUTCOME_UNKNOWN) == {labels({n.OPERATION: "qris.generate"}): 1}
    assert otel.counts(n.METRIC_RETRIES) == {}


def test_a_cancelled_call_still_ends_its_open_attempt_span(otel: Otel) -> None:
    tel = _telemetry(otel)

    def interrupted() -> None:
        with tel.call(GENERATE, money_moving=True) as call:
            call.attempt_started(1, "ext-2")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    (root,) = otel.named("ayolinx qris.generate")
    (attempt,) = otel.children(root)
    assert attempt.attributes is not None
    assert attempt.attributes[n.OUTCOME] == "unknown"
    assert attempt.end_time is not None
    assert trace.get_current_span() is trace.INVALID_SPAN  # the context was restored


def test_traceparent_only_when_asked(otel: Otel) -> None:
    for propagate, expected in ((False, set()), (True, {"traceparent"})):
        headers: dict[str, str] = {}
        with _telemetry(otel, propagate_context=propagate).call(QUERY, money_moving=False) as c:
            c.attempt_started(1, "ext-3")
            c.inject(headers)
            c.attempt_ok(200, "2005100")
        assert set(headers) == expected


def test_a_refresh_nests_under_the_current_call(otel: Otel) -> None:
    tel = _telemetry(otel)
    with tel.call(QUERY, money_moving=False), tel.token_refresh(shared_store=True) as refresh:
        refresh.from_store = True
    with pytest.raises(ServerError), tel.token_refresh(shared_store=False):
        raise _server_error()
    (root,) = otel.named("ayolinx qris.query")
    ok, failed = otel.named("ayolinx token.refresh")
    assert otel.children(root) == [ok]
    assert dict(ok.attributes or {}) == {
        n.OPERATION: "token",
        n.TOKEN_SHARED_STORE: True,
        n.TOKEN_FROM_STORE: True,
        n.OUTCOME: "ok",
    }
    assert failed.attributes is not None
    assert failed.attributes[n.ERROR_TYPE] == "ServerError"
    assert otel.counts(n.METRIC_TOKEN_REFRESHES) == {labels({n.TOKEN_FROM_STORE: True}): 1}
    assert otel.counts(n.METRIC_TOKEN_REFRESH_FAILURES) == {
        labels({n.ERROR_TYPE: "ServerError"}): 1
    }


def test_a_callback_span_names_its_route_never_its_path(otel: Otel) -> None:
    tel = _telemetry(otel)
    with tel.callback("post") as cb:
        cb.routed("notify")
        cb.verified()
        cb.event("QrisNotification")
        cb.deduped("duplicate")
        cb.answered(200)
    (span,) = otel.spans()
    assert span.name == "ayolinx callback notify"
    assert span.kind is trace.SpanKind.SERVER
    assert dict(span.attributes or {}) == {
        n.HTTP_METHOD: "POST",
        n.CALLBACK_ROUTE: "notify",
        n.CALLBACK_VERIFIED: True,
        n.CALLBACK_EVENT_TYPE: "QrisNotification",
        n.CALLBACK_DEDUPE: "duplicate",
        n.HTTP_STATUS: 200,
        n.CALLBACK_RESULT: "duplicate",
    }
    assert otel.counts(n.METRIC_DEDUPE_HITS) == {
        labels({n.CALLBACK_ROUTE: "notify", n.CALLBACK_DEDUPE: "duplicate"}): 1
    }

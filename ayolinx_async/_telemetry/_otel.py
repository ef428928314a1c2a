"""The OpenTelemetry side of the ``[otel]`` extra: one :class:`Telemetry` per client or callback
handler holds the tracer and the instruments; a :class:`CallTrace`, :class:`RefreshTrace` or
:class:`CallbackTrace` follows one call, token refresh or callback (names in ``_names.py``).

Attributes are built from the SDK's own values only (paths, codes, ids, class names); no
header, body, token, signature or exception message ever becomes an attribute.
"""

from __future__ import annotations

import abc
import time
from collections.abc import MutableMapping
from types import TracebackType
from typing import Self

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.util.types import AttributeValue

from .._version import __version__
from . import _names as n

__all__ = ["CallTrace", "CallbackTrace", "RefreshTrace", "Telemetry"]

_SCOPE = "ayolinx_async"
#: Decisions after which the call sends again (``_retries.Action`` values).
_RETRYING = frozenset({"retry", "retry_new_id", "refresh_token"})


class Telemetry:
    """The tracer and instruments of one client or callback handler, from the user's providers
    (the global ones unless given)."""

    __slots__ = (
        "_base_url",
        "_server",
        "call_duration",
        "callbacks",
        "dedupe_hits",
        "listener_duration",
        "outcome_unknown",
        "propagate_context",
        "refresh_failures",
        "refreshes",
        "retries",
        "tracer",
    )

    def __init__(
        self,
        *,
        base_url: str = "",
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        propagate_context: bool = False,
    ) -> None:
        self.tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider)
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider)
        self.propagate_context = propagate_context
        self._base_url = n.safe_url(base_url).rstrip("/") if base_url else ""
        self._server = n.server_of(base_url) if base_url else ("", 0)
        self.call_duration = _seconds(
            meter,
            n.METRIC_CALL_DURATION,
            "Duration of SDK calls, retries and token fetches included",
        )
        self.retries = meter.create_counter(
            n.METRIC_RETRIES, unit="{retry}", description="Attempts sent again after a failure"
        )
        self.refreshes = meter.create_counter(
            n.METRIC_TOKEN_REFRESHES, unit="{refresh}", description="Access tokens obtained"
        )
        self.refresh_failures = meter.create_counter(
            n.METRIC_TOKEN_REFRESH_FAILURES, unit="{refresh}", description="Failed token refreshes"
        )
        self.outcome_unknown = meter.create_counter(
            n.METRIC_OUTCOME_UNKNOWN,
            unit="{call}",
            description="Money-moving calls that raised OutcomeUnknownError",
        )
        self.callbacks = meter.create_counter(
            n.METRIC_CALLBACKS, unit="{request}", description="Callbacks received, by result"
        )
        self.listener_duration = _seconds(
            meter, n.METRIC_LISTENER_DURATION, "Time the merchant's callback listeners ran"
        )
        self.dedupe_hits = meter.create_counter(
            n.METRIC_DEDUPE_HITS,
            unit="{request}",
            description="Callbacks answered from the dedupe store without running listeners",
        )

    def call(self, path: str, *, money_moving: bool) -> CallTrace:
        """Follow one logical call (use as a context manager around the call loop)."""
        return CallTrace(self, path, money_moving)

    def token_refresh(self, *, shared_store: bool) -> RefreshTrace:
        """Follow one token refresh (a context manager around the fetch)."""
        return RefreshTrace(self, shared_store)

    def callback(self, method: str) -> CallbackTrace:
        """Follow one callback request (a context manager around its handling)."""
        return CallbackTrace(self, method)

    def attempt_attributes(self, path: str) -> dict[str, AttributeValue]:
        """The HTTP client attributes every attempt at ``path`` carries."""
        address, port = self._server
        return {
            n.HTTP_METHOD: "POST",
            n.URL_FULL: self._base_url + path.partition("?")[0],
            n.SERVER_ADDRESS: address,
            n.SERVER_PORT: port,
        }


def _seconds(meter: metrics.Meter, name: str, description: str) -> metrics.Histogram:
    """A duration histogram in seconds, on the SDK's bucket boundaries where the API takes
    them (opentelemetry-api 1.30+); an older API gets the exporter's default buckets rather
    than a ``TypeError`` when telemetry is switched on."""
    try:
        return meter.create_histogram(
            name,
            unit="s",
            description=description,
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS,
        )
    except TypeError:
        return meter.create_histogram(name, unit="s", description=description)


def _fail(span: trace.Span, exc: BaseException) -> None:
    """Mark ``span`` failed by the exception's class only (its message is not an attribute)."""
    kind = n.error_type(exc)
    span.set_attribute(n.ERROR_TYPE, kind)
    span.set_status(trace.StatusCode.ERROR, kind)


class _CurrentSpan(abc.ABC):
    """A span that is the current one while its ``with`` block runs, so spans started inside
    (a token refresh, the user's own) nest under it."""

    __slots__ = ("_token", "span")

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self._token: object = None

    def __enter__(self) -> Self:
        self._token = otel_context.attach(trace.set_span_in_context(self.span))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._close(exc)
        finally:
            otel_context.detach(self._token)  # type: ignore[arg-type]

    @abc.abstractmethod
    def _close(self, exc: BaseException | None) -> None:
        """End what the block left open; ``exc`` is what escaped it, if anything."""


class CallTrace(_CurrentSpan):
    """One call: its ``ayolinx <operation>`` span (current while the call runs, so a token
    refresh nests under it), one child span per attempt, and the call metrics."""

    __slots__ = (
        "_attempt",
        "_attrs",
        "_ctx",
        "_path",
        "_started",
        "attempts",
        "external_id",
        "response_code",
        "telemetry",
    )

    def __init__(self, telemetry: Telemetry, path: str, money_moving: bool) -> None:
        self.telemetry = telemetry
        self._path = path
        operation = n.operation_for(path)
        self._attrs: dict[str, AttributeValue] = {
            n.OPERATION: operation,
            n.MONEY_MOVING: money_moving,
        }
        super().__init__(
            telemetry.tracer.start_span(
                f"ayolinx {operation}", kind=trace.SpanKind.INTERNAL, attributes=self._attrs
            )
        )
        self._ctx = trace.set_span_in_context(self.span)
        self._attempt: trace.Span | None = None
        self._started = time.perf_counter()
        self.attempts = 0
        self.external_id: str | None = None
        self.response_code: str | None = None

    def _close(self, exc: BaseException | None) -> None:
        if self._attempt is not None:  # cancelled or failed outside the SDK's error tree
            self._end_attempt(exc, "unknown" if self._attrs[n.MONEY_MOVING] else "failed")
        self._finish(exc)

    def attempt_started(self, attempt: int, external_id: str) -> None:
        """A signed attempt is about to go out under ``external_id``."""
        self.attempts = attempt
        self.external_id = external_id
        attributes = self.telemetry.attempt_attributes(self._path)
        attributes.update(self._attrs)
        attributes[n.EXTERNAL_ID] = external_id
        attributes[n.ATTEMPT] = attempt
        self._attempt = self.telemetry.tracer.start_span(
            "POST", context=self._ctx, kind=trace.SpanKind.CLIENT, attributes=attributes
        )

    def inject(self, headers: MutableMapping[str, str]) -> None:
        """Add W3C ``traceparent`` for the current attempt, only when the user asked for it
        (Ayolinx is a third party)."""
        if self.telemetry.propagate_context and self._attempt is not None:
            propagate.inject(headers, context=trace.set_span_in_context(self._attempt))

    def attempt_ok(self, http_status: int, response_code: str) -> None:
        """The attempt was decoded as a success."""
        self.response_code = response_code
        span = self._attempt
        if span is not None:
            span.set_attribute(n.HTTP_STATUS, http_status)
            span.set_attribute(n.RESPONSE_CODE, response_code)
            self._end_attempt(None, "ok")

    def attempt_failed(self, exc: BaseException, action: str) -> None:
        """The attempt failed with ``exc`` and the retry policy chose ``action``."""
        status = getattr(exc, "http_status", None)
        code = getattr(exc, "response_code", None)
        self.response_code = code.value if code is not None else None
        span = self._attempt
        if span is not None:
            if isinstance(status, int):
                span.set_attribute(n.HTTP_STATUS, status)
            if self.response_code is not None:
                span.set_attribute(n.RESPONSE_CODE, self.response_code)
            self._end_attempt(exc, "unknown" if action == "outcome_unknown" else "failed")
        if action in _RETRYING:
            self.telemetry.retries.add(
                1, {n.OPERATION: self._attrs[n.OPERATION], n.RETRY_ACTION: action}
            )

    def _end_attempt(self, exc: BaseException | None, outcome: str) -> None:
        span = self._attempt
        assert span is not None
        self._attempt = None
        span.set_attribute(n.OUTCOME, outcome)
        if exc is not None:
            _fail(span, exc)
        span.end()

    def _finish(self, exc: BaseException | None) -> None:
        span = self.span
        outcome = n.call_outcome(exc)
        span.set_attribute(n.OUTCOME, outcome)
        span.set_attribute(n.ATTEMPTS, self.attempts)
        if self.external_id is not None:
            span.set_attribute(n.EXTERNAL_ID, self.external_id)
        if self.response_code is not None:
            span.set_attribute(n.RESPONSE_CODE, self.response_code)
        if exc is not None:
            _fail(span, exc)
        span.end()
        labels = {n.OPERATION: self._attrs[n.OPERATION], n.OUTCOME: outcome}
        telemetry = self.telemetry
        telemetry.call_duration.record(time.perf_counter() - self._started, labels)
        if outcome == "unknown":
            telemetry.outcome_unknown.add(1, {n.OPERATION: self._attrs[n.OPERATION]})


class RefreshTrace(_CurrentSpan):
    """One token refresh: the ``ayolinx token.refresh`` span (a child of the call that
    triggered it) and the refresh counters. Set ``from_store`` before the block ends."""

    __slots__ = ("from_store", "telemetry")

    def __init__(self, telemetry: Telemetry, shared_store: bool) -> None:
        self.telemetry = telemetry
        self.from_store = False
        super().__init__(
            telemetry.tracer.start_span(
                "ayolinx token.refresh",
                kind=trace.SpanKind.INTERNAL,
                attributes={n.OPERATION: "token", n.TOKEN_SHARED_STORE: shared_store},
            )
        )

    def _close(self, exc: BaseException | None) -> None:
        span = self.span
        if exc is None:
            span.set_attribute(n.TOKEN_FROM_STORE, self.from_store)
            span.set_attribute(n.OUTCOME, "ok")
            self.telemetry.refreshes.add(1, {n.TOKEN_FROM_STORE: self.from_store})
        else:
            span.set_attribute(n.OUTCOME, "failed")
            _fail(span, exc)
            self.telemetry.refresh_failures.add(1, {n.ERROR_TYPE: n.error_type(exc)})
        span.end()


class CallbackTrace(_CurrentSpan):
    """One callback request: its server span and the callback metrics. The handler reports
    what it learns (route, verification, event, dedupe, listeners) as it goes."""

    __slots__ = ("dedupe", "event_type", "route", "telemetry")

    def __init__(self, telemetry: Telemetry, method: str) -> None:
        self.telemetry = telemetry
        self.route = "unknown"
        self.dedupe: str | None = None
        self.event_type = ""
        super().__init__(
            telemetry.tracer.start_span(
                "ayolinx callback",
                kind=trace.SpanKind.SERVER,
                attributes={n.HTTP_METHOD: method.upper(), n.CALLBACK_VERIFIED: False},
            )
        )

    def _close(self, exc: BaseException | None) -> None:
        if exc is not None:  # only cancellation escapes the handler (answered() ends it else)
            _fail(self.span, exc)
            self.span.end()

    def routed(self, route: str) -> None:
        """The request matched the route named ``route`` (never its path: a secret notify
        path is a credential of sorts)."""
        self.route = route
        self.span.update_name(f"ayolinx callback {route}")
        self.span.set_attribute(n.CALLBACK_ROUTE, route)

    def verified(self) -> None:
        """The signature, timestamp and headers checked out."""
        self.span.set_attribute(n.CALLBACK_VERIFIED, True)

    def rejected(self, reason: str) -> None:
        """The callback was refused; ``reason`` is the :class:`CallbackRejected` tag."""
        self.span.set_attribute(n.CALLBACK_REJECTED_REASON, reason)

    def event(self, event_type: str) -> None:
        """The verified body was parsed into an event of class ``event_type``."""
        self.event_type = event_type
        self.span.set_attribute(n.CALLBACK_EVENT_TYPE, event_type)

    def deduped(self, result: str) -> None:
        """The dedupe claim gave ``new``, ``duplicate`` or ``in_progress``."""
        self.dedupe = result
        self.span.set_attribute(n.CALLBACK_DEDUPE, result)
        if result != "new":
            labels = {n.CALLBACK_ROUTE: self.route, n.CALLBACK_DEDUPE: result}
            self.telemetry.dedupe_hits.add(1, labels)

    def listeners_ran(self, seconds: float) -> None:
        """The listeners ran for ``seconds`` (whether they succeeded or not)."""
        self.span.set_attribute(n.CALLBACK_LISTENER_DURATION, seconds)
        labels = {n.CALLBACK_ROUTE: self.route, n.CALLBACK_EVENT_TYPE: self.event_type}
        self.telemetry.listener_duration.record(seconds, labels)

    def answered(self, status: int) -> None:
        """The handler answered with HTTP ``status``; ends the span and counts the callback."""
        result = n.callback_result(status, self.dedupe)
        span = self.span
        span.set_attribute(n.HTTP_STATUS, status)
        span.set_attribute(n.CALLBACK_RESULT, result)
        if status >= 500:
            span.set_attribute(n.ERROR_TYPE, str(status))
            span.set_status(trace.StatusCode.ERROR, str(status))
        span.end()
        self.telemetry.callbacks.add(1, {n.CALLBACK_ROUTE: self.route, n.CALLBACK_RESULT: result})

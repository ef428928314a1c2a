"""The names telemetry publishes (spans, attributes, metrics) and the pure functions that turn
the SDK's values into attribute values. Nothing here imports OpenTelemetry."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .._endpoints import Endpoint
from .._errors import OutcomeUnknownError

__all__ = [
    "ATTEMPT",
    "ATTEMPTS",
    "CALLBACK_DEDUPE",
    "CALLBACK_EVENT_TYPE",
    "CALLBACK_LISTENER_DURATION",
    "CALLBACK_REJECTED_REASON",
    "CALLBACK_RESULT",
    "CALLBACK_ROUTE",
    "CALLBACK_VERIFIED",
    "DURATION_BUCKETS",
    "ERROR_TYPE",
    "EXTERNAL_ID",
    "HTTP_METHOD",
    "HTTP_STATUS",
    "METRIC_CALLBACKS",
    "METRIC_CALL_DURATION",
    "METRIC_DEDUPE_HITS",
    "METRIC_LISTENER_DURATION",
    "METRIC_OUTCOME_UNKNOWN",
    "METRIC_RETRIES",
    "METRIC_TOKEN_REFRESHES",
    "METRIC_TOKEN_REFRESH_FAILURES",
    "MONEY_MOVING",
    "OPERATION",
    "OUTCOME",
    "RESPONSE_CODE",
    "RETRY_ACTION",
    "SERVER_ADDRESS",
    "SERVER_PORT",
    "TOKEN_FROM_STORE",
    "TOKEN_SHARED_STORE",
    "URL_FULL",
    "callback_result",
    "call_outcome",
    "error_type",
    "operation_for",
    "safe_url",
    "server_of",
]

# HTTP client semantic conventions (stable).
HTTP_METHOD = "http.request.method"
HTTP_STATUS = "http.response.status_code"
URL_FULL = "url.full"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"

# The SDK's own attributes.
OPERATION = "ayolinx.operation"
EXTERNAL_ID = "ayolinx.external_id"
RESPONSE_CODE = "ayolinx.response_code"
MONEY_MOVING = "ayolinx.money_moving"
OUTCOME = "ayolinx.outcome"
ATTEMPT = "ayolinx.attempt"
ATTEMPTS = "ayolinx.attempts"
RETRY_ACTION = "ayolinx.retry.action"
TOKEN_FROM_STORE = "ayolinx.token.from_store"
TOKEN_SHARED_STORE = "ayolinx.token.shared_store"
CALLBACK_ROUTE = "ayolinx.callback.route"
CALLBACK_VERIFIED = "ayolinx.callback.verified"
CALLBACK_REJECTED_REASON = "ayolinx.callback.rejected_reason"
CALLBACK_EVENT_TYPE = "ayolinx.callback.event_type"
CALLBACK_DEDUPE = "ayolinx.callback.dedupe"
CALLBACK_LISTENER_DURATION = "ayolinx.callback.listener_duration"
CALLBACK_RESULT = "ayolinx.callback.result"

METRIC_CALL_DURATION = "ayolinx.client.call.duration"
METRIC_RETRIES = "ayolinx.client.retries"
METRIC_TOKEN_REFRESHES = "ayolinx.client.token.refreshes"
METRIC_TOKEN_REFRESH_FAILURES = "ayolinx.client.token.refresh_failures"
METRIC_OUTCOME_UNKNOWN = "ayolinx.client.outcome_unknown"
METRIC_CALLBACKS = "ayolinx.callback.requests"
METRIC_LISTENER_DURATION = "ayolinx.callback.listener.duration"
METRIC_DEDUPE_HITS = "ayolinx.callback.dedupe_hits"

#: Seconds; the HTTP semantic conventions' buckets, extended to the SDK's 60 s call budget.
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 30.0, 60.0,
)  # fmt: skip


def _operation_name(endpoint: Endpoint) -> str:
    """``QRIS_QUERY`` -> ``qris.query``, ``PAYMENT_LINK_CREATE`` -> ``payment_link.create``."""
    head, _, tail = endpoint.name.lower().rpartition("_")
    return f"{head}.{tail}" if head else tail


_OPERATIONS = {endpoint.path: _operation_name(endpoint) for endpoint in Endpoint}


def operation_for(path: str) -> str:
    """The low-cardinality name of the call at ``path`` (``qris.query``); ``request`` for a
    path outside the catalogue, so a custom path never becomes a metric label."""
    return _OPERATIONS.get(path, "request")


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment: nothing a proxy URL or a signed link
    could carry into a span."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def server_of(base_url: str) -> tuple[str, int]:
    """``server.address`` and ``server.port`` of the gateway (the scheme's default port when
    the URL names none)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


def error_type(exc: BaseException) -> str:
    """``error.type``: the exception's class name (the SDK's own tree names the failure)."""
    return type(exc).__name__


def call_outcome(exc: BaseException | None) -> str:
    """``ayolinx.outcome`` of a finished call: ``ok``, ``unknown`` (money may have moved) or
    ``failed`` (it did not, or a read failed)."""
    if exc is None:
        return "ok"
    return "unknown" if isinstance(exc, OutcomeUnknownError) else "failed"


def callback_result(status: int, dedupe: str | None) -> str:
    """``ayolinx.callback.result`` from the answer: accepted, duplicate, rejected (4xx, Ayolinx
    should not retry) or failed (5xx, Ayolinx retries)."""
    if status < 300:
        return "duplicate" if dedupe == "duplicate" else "accepted"
    return "rejected" if status < 500 else "failed"

"""The error tree.

Every exception the SDK raises derives from :class:`AyolinxError`. API errors carry the parsed
SNAP ``responseCode`` (docs/protocol.md §12); transport errors say whether the request may have
reached the server, which is what decides if a money-moving call is safe to send again. Messages
never contain secrets, tokens, signatures or key material.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Protocol, TypedDict, Unpack

import attrs

__all__ = [
    "APIError",
    "AnswerContext",
    "AuthenticationError",
    "AyolinxError",
    "BadRequestError",
    "CallbackRejected",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionDroppedError",
    "InvalidTokenError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "RateLimitError",
    "ReadTimeoutError",
    "RequestTimeoutError",
    "ResponseCode",
    "ResponseDecodeError",
    "ResponseError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "WriteTimeoutError",
    "api_error_class",
]

_SNAP_CODE = re.compile(r"^([1-5][0-9]{2})([0-9]{2})([0-9]{2})$")


@attrs.frozen(slots=True)
class ResponseCode:
    """A SNAP ``responseCode``: HTTP status (3) + service code (2) + case code (2).

    Codes that do not have that shape (retail's ``"00"``, the odd ``581000001``) are kept
    verbatim with ``http_status``/``service_code``/``case_code`` set to ``None``.
    """

    value: str
    http_status: int | None = None
    service_code: str | None = None
    case_code: str | None = None

    @classmethod
    def parse(cls, value: object) -> ResponseCode:
        """Split a code into its parts; anything else is kept opaque (docs/protocol.md §12.1)."""
        text = "" if value is None else str(value)
        if cls is ResponseCode:
            return _parse_code(text)
        return cls._split(text)

    @classmethod
    def _split(cls, text: str) -> ResponseCode:
        match = _SNAP_CODE.match(text)
        if match is None:
            return cls(value=text)
        return cls(
            value=text,
            http_status=int(match.group(1)),
            service_code=match.group(2),
            case_code=match.group(3),
        )

    def __str__(self) -> str:
        return self.value


@functools.lru_cache(maxsize=512)
def _parse_code(text: str) -> ResponseCode:
    """Codes repeat (a handful per endpoint) and instances are frozen, so share them."""
    return ResponseCode._split(text)


class AyolinxError(Exception):
    """Root of every error raised by ayolinx-async."""


class ConfigurationError(AyolinxError):
    """The client, a key or a setting is unusable; fix the configuration, do not retry."""


class ValidationError(AyolinxError, ValueError):
    """Input rejected before anything was sent. ``field`` names the offending input."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class TransportError(AyolinxError):
    """The HTTP exchange failed below the API level (no usable response was received).

    ``request_sent`` is False only when the request provably never left this process
    (connection refused, connect timeout, pool timeout); otherwise the server may have acted.
    """

    request_sent: bool = True

    def __init__(self, message: str, *, external_id: str | None = None) -> None:
        self.external_id = external_id
        #: The attempt that failed (set by the client): method, full URL, its X-TIMESTAMP.
        self.method: str | None = None
        self.url: str | None = None
        self.timestamp: str | None = None
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        if not self.url or self.url in text:
            return text
        where = f"{self.method} {self.url}" if self.method else self.url
        head, sep, tail = text.partition(": ")
        # "cannot connect: refused" -> "cannot connect to POST https://…/path: refused"
        return f"{head} to {where}{sep}{tail}" if sep else f"{text} ({where})"


class ConnectError(TransportError):
    """No connection could be opened; the request never left."""

    request_sent = False


class RequestTimeoutError(TransportError):
    """A timeout fired. Subclasses say at which stage."""


class ConnectTimeoutError(RequestTimeoutError):
    """Connecting took too long; the request never left."""

    request_sent = False


class PoolTimeoutError(RequestTimeoutError):
    """No pooled connection became free in time; the request never left."""

    request_sent = False


class WriteTimeoutError(RequestTimeoutError):
    """Sending the request took too long; part of it may have reached the server."""


class ReadTimeoutError(RequestTimeoutError):
    """The request was sent but no answer came in time; the server may have acted."""


class ConnectionDroppedError(TransportError):
    """The connection closed before a full response arrived; the server may have acted."""


class AnswerContext(TypedDict, total=False):
    """Where an answer came from, as every :class:`ResponseError` records it: the call's
    ``external_id`` (X-EXTERNAL-ID), its ``path`` and the answer's ``headers``."""

    external_id: str | None
    path: str | None
    headers: Mapping[str, str] | None


class ResponseError(AyolinxError):
    """An answer arrived and it is not a usable success: the base of :class:`APIError` (a SNAP
    failure code) and :class:`ResponseDecodeError` (not the JSON the API promises).

    Both carry the same evidence: ``http_status``, ``headers``, ``raw`` (the exact body bytes;
    ``raw`` means the bytes everywhere in the SDK), ``body`` (the decoded JSON object, empty
    when there is none), ``external_id``, ``path`` and ``retry_after``.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        raw: bytes = b"",
        body: dict[str, Any] | None = None,
        **context: Unpack[AnswerContext],
    ) -> None:
        self.http_status = http_status
        self.raw = raw
        self.body = body if body is not None else {}
        self.external_id = context.get("external_id")
        self.path = context.get("path")
        headers = context.get("headers")
        self.headers = dict(headers) if headers else {}
        #: Seconds the server asked to wait (``Retry-After``), when it said so.
        self.retry_after: float | None = None
        #: The X-TIMESTAMP the failing attempt was signed with (set by the client).
        self.timestamp: str | None = None
        #: What usually causes this failure and what to check (set by the client).
        self.hint: str | None = None
        super().__init__(message)

    @property
    def ayolinx_reference(self) -> str | None:
        """Ayolinx's own ``referenceNo`` for the request, when the answer carries one."""
        value = self.body.get("referenceNo")
        return value if isinstance(value, str) and value else None

    def support_line(self) -> str:
        """One line to paste into a ticket to Ayolinx support."""
        return _support_line(self)

    def __str__(self) -> str:
        text = super().__str__()
        if self.hint:
            text += f" Hint: {self.hint}"
        return f"{text}\n{self.support_line()}"


class ResponseDecodeError(ResponseError):
    """A response arrived but is not the JSON object the API promises (HTML, empty, truncated)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        raw: bytes,
        **context: Unpack[AnswerContext],
    ) -> None:
        super().__init__(
            f"{message} (HTTP {http_status}, {len(raw)} bytes)",
            http_status=http_status,
            raw=raw,
            **context,
        )


class APIError(ResponseError):
    """Ayolinx answered, and the answer is not a success (docs/protocol.md §12)."""

    def __init__(
        self,
        *,
        http_status: int,
        response_code: ResponseCode | None,
        message: str,
        body: dict[str, Any] | None = None,
        raw: bytes = b"",
        **context: Unpack[AnswerContext],
    ) -> None:
        self.response_code = response_code
        self.message = message
        code = response_code.value if response_code is not None else "-"
        path = context.get("path")
        where = f" on {path}" if path else ""
        super().__init__(
            f"HTTP {http_status} responseCode={code}{where}: {message}",
            http_status=http_status,
            raw=raw,
            body=body,
            **context,
        )

    @property
    def service_code(self) -> str | None:
        return self.response_code.service_code if self.response_code else None

    @property
    def case_code(self) -> str | None:
        return self.response_code.case_code if self.response_code else None


class BadRequestError(APIError):
    """400: a field is missing or malformed (case 01 format, 02 mandatory)."""


class AuthenticationError(APIError):
    """401: signature, client key or token rejected."""


class InvalidTokenError(AuthenticationError):
    """401 case 01: the B2B access token is invalid or expired."""


class PermissionDeniedError(APIError):
    """403: expired transaction, feature not allowed, limit exceeded …"""


class NotFoundError(APIError):
    """404: unknown transaction, merchant or routing."""


class ConflictError(APIError):
    """409: duplicate X-EXTERNAL-ID (case 00) or duplicate partnerReferenceNo (case 01)."""


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` holds the server's ``Retry-After`` in seconds.

    Raised without waiting when the wait would outlive the call's own timeout."""


class ServerError(APIError):
    """5xx: Ayolinx or a downstream bank failed."""


class OutcomeUnknownError(AyolinxError):
    """A money-moving call may or may not have taken effect; inquire before trying again.

    Raised instead of an automatic re-send after a timeout, a dropped connection or a 5xx on
    create/generate/cancel calls. ``cause`` is the underlying error.
    """

    def __init__(
        self,
        *,
        path: str,
        external_id: str,
        partner_reference_no: str | None,
        attempts: int,
        cause: BaseException,
        channel: str | None = None,
    ) -> None:
        self.path = path
        self.external_id = external_id
        self.partner_reference_no = partner_reference_no
        self.attempts = attempts
        self.cause = cause
        self.channel = channel
        ref = partner_reference_no or "-"
        detail = str(cause).split("\n", 1)[0]  # the cause's own support line is ours below
        super().__init__(
            f"outcome unknown for {path} (partnerReferenceNo={ref}, X-EXTERNAL-ID={external_id},"
            f" attempts={attempts}): {type(cause).__name__}: {detail}; query the status first"
        )

    @property
    def timestamp(self) -> str | None:
        """The X-TIMESTAMP of the last attempt, when the cause recorded it."""
        value = getattr(self.cause, "timestamp", None)
        return value if isinstance(value, str) else None

    @property
    def ayolinx_reference(self) -> str | None:
        """Ayolinx's ``referenceNo``, when an answer carried one."""
        value = getattr(self.cause, "ayolinx_reference", None)
        return value if isinstance(value, str) else None

    def support_line(self) -> str:
        """One line to paste into a ticket to Ayolinx support."""
        return _support_line(self, partner_reference=self.partner_reference_no)

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.support_line()}"


class _Quotable(Protocol):
    """What a support line quotes from an error (attributes or properties)."""

    @property
    def path(self) -> str | None: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def timestamp(self) -> str | None: ...
    @property
    def ayolinx_reference(self) -> str | None: ...


def _support_line(error: _Quotable, *, partner_reference: str | None = None) -> str:
    parts = [
        f"path={error.path or '-'}",
        f"X-EXTERNAL-ID={error.external_id or '-'}",
        f"X-TIMESTAMP={error.timestamp or '-'}",
    ]
    if partner_reference:
        parts.append(f"partnerReferenceNo={partner_reference}")
    if error.ayolinx_reference:
        parts.append(f"referenceNo={error.ayolinx_reference}")
    return "for Ayolinx support: " + " ".join(parts)


class CallbackRejected(AyolinxError):
    """A callback request failed verification or validation; nothing was dispatched.

    ``http_status`` and ``case_code`` make the SNAP answer (``<status><service><case>``);
    ``reason`` is a stable machine-readable tag (``bad_signature``, ``stale_timestamp`` …).
    The message never contains a signature, token or secret.
    """

    def __init__(self, http_status: int, case_code: str, message: str, *, reason: str) -> None:
        self.http_status = http_status
        self.case_code = case_code
        self.message = message
        self.reason = reason
        super().__init__(f"{http_status} {reason}: {message}")

    def response_code(self, service_code: str) -> str:
        """The 7-digit SNAP code for this rejection on the given service."""
        return f"{self.http_status}{service_code}{self.case_code}"


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def api_error_class(http_status: int, code: ResponseCode | None) -> type[APIError]:
    """Pick the error class: the HTTP part of a SNAP code wins over the transport status."""
    status = code.http_status if code is not None and code.http_status else http_status
    if status == 401 and code is not None and code.case_code == "01":
        return InvalidTokenError
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)

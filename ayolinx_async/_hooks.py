"""One attempt on the wire, with the SDK's logging and the user's event hooks around it.

Hooks see redacted views only (no token, signature or body); a failing hook is logged and
never changes a call's outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import attrs

from ._errors import AyolinxError, TransportError
from ._frozen import maker
from ._log import call_fields, logger, redact_headers
from ._response import peek_code
from ._secret import RedactedHeaders
from .transport._base import HttpRequest, HttpResponse, Timeout, Transport

__all__ = ["USER_AGENT", "AttemptSender", "Hook", "RequestEvent", "ResponseEvent", "emit"]

#: ``HttpRequest(...)``, built with plain slot stores (every attempt makes one).
_new_request = maker(HttpRequest)

USER_AGENT = "ayolinx-async"


@attrs.frozen(kw_only=True, slots=True)
class RequestEvent:
    """What an ``on_request`` hook sees: no signature, no token, no body."""

    method: str
    path: str
    url: str
    headers: Mapping[str, str]
    external_id: str | None
    attempt: int


@attrs.frozen(kw_only=True, slots=True)
class ResponseEvent:
    """What an ``on_response`` hook sees after each attempt (``error`` names a failure type)."""

    request: RequestEvent
    status_code: int | None
    response_code: str | None
    elapsed: float
    error: str | None = None


Hook = Callable[[Any], Awaitable[None]]


@attrs.frozen(kw_only=True, slots=True)
class AttemptSender:
    """Sends one signed attempt through the transport, logging it and running the hooks."""

    transport: Transport
    base_url: str
    on_request: Hook | None = None
    on_response: Hook | None = None

    async def _report(
        self,
        event: RequestEvent | None,
        status_code: int | None,
        response_code: str | None,
        elapsed: float,
        *,
        error: str | None = None,
    ) -> None:
        """Run the ``on_response`` hook (when there is one) on an attempt's outcome."""
        if event is not None and self.on_response is not None:
            outcome = ResponseEvent(
                request=event,
                status_code=status_code,
                response_code=response_code,
                elapsed=elapsed,
                error=error,
            )
            await emit(self.on_response, outcome)

    async def send(
        self,
        path: str,
        headers: RedactedHeaders,
        content: bytes,
        external_id: str | None,
        attempt: int,
        timeout: Timeout,
    ) -> HttpResponse:
        """Send one attempt, with logging and hooks around it."""
        headers.setdefault("User-Agent", USER_AGENT)
        url = self.base_url + path
        request = _new_request(
            method="POST", url=url, headers=headers, content=content, timeout=timeout
        )
        event: RequestEvent | None = None
        if self.on_request is not None or self.on_response is not None:
            event = RequestEvent(
                method="POST",
                path=path,
                url=url,
                headers=redact_headers(headers),
                external_id=external_id,
                attempt=attempt,
            )
            if self.on_request is not None:
                await emit(self.on_request, event)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "POST %s request headers %s (attempt=%d)",
                path,
                redact_headers(headers),
                attempt,
                extra=call_fields(path, external_id, attempt, None),
            )
        started = time.perf_counter()
        try:
            try:
                response = await self.transport.send(request)
            except (AyolinxError, anyio.get_cancelled_exc_class()):
                raise
            except Exception as exc:
                # A third-party transport leaked its own error: the request may have been sent.
                raise TransportError(f"transport failure: {type(exc).__name__}") from exc
        except TransportError as exc:
            exc.external_id = external_id
            exc.method, exc.url, exc.timestamp = "POST", url, headers.get("X-TIMESTAMP")
            elapsed = time.perf_counter() - started
            error = type(exc).__name__
            _log_outcome(
                path,
                external_id,
                attempt,
                elapsed,
                "failed: %s",
                error,
                status_code=None,
                response_code=None,
                error_type=error,
            )
            await self._report(event, None, None, elapsed, error=error)
            raise
        elapsed = time.perf_counter() - started
        if logger.isEnabledFor(20) or (event is not None and self.on_response is not None):
            code = peek_code(response.content)
            _log_outcome(
                path,
                external_id,
                attempt,
                elapsed,
                "-> %d responseCode=%s",
                response.status_code,
                code,
                status_code=response.status_code,
                response_code=code,
            )
            await self._report(event, response.status_code, code, elapsed)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "POST %s response headers %s (X-EXTERNAL-ID=%s attempt=%d)",
                path,
                redact_headers(response.headers),
                external_id,
                attempt,
                extra=call_fields(path, external_id, attempt, elapsed),
            )
        return response


def _log_outcome(
    path: str,
    external_id: str | None,
    attempt: int,
    elapsed: float,
    outcome: str,
    *args: object,
    **fields: object,
) -> None:
    """An attempt's info record, ``POST <path> <outcome> (X-EXTERNAL-ID=... attempt=... s)``:
    ``outcome`` is a %-format for ``args`` (formatted only if logged); ``fields`` join the
    record's attributes for JSON loggers."""
    logger.info(
        "POST %s " + outcome + " (X-EXTERNAL-ID=%s attempt=%d %.3fs)",
        path,
        *args,
        external_id,
        attempt,
        elapsed,
        extra=call_fields(path, external_id, attempt, elapsed, **fields),
        stacklevel=2,  # the record names the caller (the attempt), not this helper
    )


async def emit(hook: Hook, event: RequestEvent | ResponseEvent) -> None:
    """Run an event hook; its failure is logged, never allowed to change the call's outcome."""
    try:
        await hook(event)
    except Exception as exc:
        logger.warning("an event hook failed (%s); the call goes on", type(exc).__name__)

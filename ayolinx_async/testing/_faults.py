"""A :class:`~ayolinx_async.Transport` wrapper that injects scripted network and server faults.

Each fault says whether the wrapped ("inner") transport is called first, i.e. whether the
server *acted* on the request before things went wrong. That is the distinction a payment SDK
lives by: a read timeout after the server acted is a payment that may have happened.
"""

from __future__ import annotations

import enum
import json
import math
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import attrs

from .._endpoints import TOKEN_PATH
from .._errors import (
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    TransportError,
)
from ..transport._base import HttpRequest, HttpResponse, Timeout, Transport

__all__ = ["Fault", "FaultInjectingTransport", "FaultKind", "FaultRecord"]


class FaultKind(enum.Enum):
    """What a :class:`Fault` does to one request."""

    #: Connection refused: ``ConnectError``; the request never left.
    REFUSE = "refuse"
    #: Connecting timed out: ``ConnectTimeoutError``; the request never left.
    CONNECT_TIMEOUT = "connect_timeout"
    #: No answer in time: ``ReadTimeoutError``.
    READ_TIMEOUT = "read_timeout"
    #: The connection closed before a full response: ``ConnectionDroppedError``.
    DROP = "drop"
    #: A canned response (any status, headers and raw body).
    RESPOND = "respond"
    #: The real response, with its body cut short.
    TRUNCATE = "truncate"
    #: Wait, then pass through; bounded by the request's total timeout like a real transport.
    DELAY = "delay"
    #: No fault: pass through.
    PASS = "pass"


def _frozen_headers(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return {k.lower(): v for k, v in (value or {}).items()}


def _to_bytes(body: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


@attrs.frozen(kw_only=True, slots=True)
class Fault:
    """One scripted fault. Build it with the class methods (``Fault.read_timeout()`` …).

    ``after_send=True`` means the inner transport is called first, so the server received and
    processed the request before the fault hit.
    """

    kind: FaultKind
    after_send: bool = False
    status_code: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_headers)
    body: bytes = b""
    seconds: float = 0.0
    keep: int | None = None

    @classmethod
    def refuse(cls) -> Fault:
        """Connection refused (nothing listening): provably never sent."""
        return cls(kind=FaultKind.REFUSE)

    @classmethod
    def connect_timeout(cls) -> Fault:
        """The TCP/TLS handshake did not finish in time: provably never sent."""
        return cls(kind=FaultKind.CONNECT_TIMEOUT)

    @classmethod
    def read_timeout(cls, *, after_send: bool = True) -> Fault:
        """The response did not arrive in time (by default after the server acted)."""
        return cls(kind=FaultKind.READ_TIMEOUT, after_send=after_send)

    @classmethod
    def drop(cls, *, after_send: bool = True) -> Fault:
        """The connection was reset mid-exchange (by default after the server acted)."""
        return cls(kind=FaultKind.DROP, after_send=after_send)

    @classmethod
    def respond(
        cls,
        status: int,
        body: bytes | str | Mapping[str, Any] = b"",
        *,
        headers: Mapping[str, str] | None = None,
        after_send: bool = False,
    ) -> Fault:
        """Answer with this status and body (a mapping is sent as JSON) instead of the server's.

        With ``after_send=True`` the server still processes the request (e.g. a gateway 502 in
        front of a backend that succeeded).
        """
        merged = {"content-type": "application/json"} if not isinstance(body, str | bytes) else {}
        merged.update(_frozen_headers(headers))
        return cls(
            kind=FaultKind.RESPOND,
            status_code=status,
            body=_to_bytes(body),
            headers=merged,
            after_send=after_send,
        )

    @classmethod
    def status(
        cls,
        status: int,
        *,
        response_code: str | None = None,
        message: str = "Injected fault",
        headers: Mapping[str, str] | None = None,
        after_send: bool = False,
    ) -> Fault:
        """A SNAP-shaped JSON error: ``{"responseCode": "<status>0000", ...}`` by default."""
        code = response_code if response_code is not None else f"{status}0000"
        return cls.respond(
            status,
            {"responseCode": code, "responseMessage": message},
            headers=headers,
            after_send=after_send,
        )

    @classmethod
    def html(cls, status: int = 502, *, after_send: bool = False) -> Fault:
        """An HTML error page, as a load balancer or WAF in front of the API would send."""
        page = f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"
        return cls.respond(
            status, page, headers={"content-type": "text/html"}, after_send=after_send
        )

    @classmethod
    def empty(cls, status: int = 200, *, after_send: bool = True) -> Fault:
        """A response with no body at all."""
        return cls.respond(status, b"", after_send=after_send)

    @classmethod
    def truncate(cls, keep: int | None = None) -> Fault:
        """Forward the request, then cut the real response body to ``keep`` bytes (default
        half), e.g. truncated JSON from a connection that closed early."""
        return cls(kind=FaultKind.TRUNCATE, after_send=True, keep=keep)

    @classmethod
    def delay(cls, seconds: float, *, after_send: bool = False) -> Fault:
        """Wait ``seconds`` before forwarding (or, with ``after_send``, before returning the
        server's answer). Past the request's total timeout it becomes a read timeout."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        return cls(kind=FaultKind.DELAY, seconds=seconds, after_send=after_send)

    @classmethod
    def hang(cls, *, after_send: bool = False) -> Fault:
        """Never answer: the call ends by its timeout or by cancellation."""
        return cls.delay(math.inf, after_send=after_send)

    @classmethod
    def passthrough(cls) -> Fault:
        """No fault for this request (useful to script "fail, succeed, fail")."""
        return cls(kind=FaultKind.PASS)


@attrs.frozen(kw_only=True, slots=True)
class FaultRecord:
    """What happened to one request: the fault applied and whether the server saw it."""

    path: str
    external_id: str | None
    fault: Fault | None
    forwarded: bool
    outcome: str
    #: The full request (signed headers included), kept for assertions but never shown.
    request: HttpRequest = attrs.field(repr=False)


@attrs.define(slots=True)
class _Rule:
    path: str | None
    services_only: bool
    queue: deque[Fault]
    repeat: Fault | None = None

    def matches(self, path: str) -> bool:
        if self.path is not None and path != self.path:
            return False
        return not (self.services_only and path == TOKEN_PATH)

    def take(self) -> Fault | None:
        if self.queue:
            return self.queue.popleft()
        return self.repeat


class FaultInjectingTransport:
    """Wraps a transport and applies scripted faults, one per matching request, in order.

    Requests that no rule claims pass through. Every request is recorded in :attr:`records`.
    """

    def __init__(
        self,
        inner: Transport,
        *,
        close_inner: bool = True,
        default_timeout: Timeout | None = None,
    ) -> None:
        self._inner = inner
        self._close_inner = close_inner
        self._default_timeout = default_timeout or Timeout()
        self._rules: list[_Rule] = []
        self.records: list[FaultRecord] = []
        """Every request seen, in arrival order."""

    @property
    def inner(self) -> Transport:
        return self._inner

    def inject(self, *faults: Fault, path: str | None = None, services_only: bool = False) -> None:
        """Queue ``faults`` for the next requests to ``path`` (any path if ``None``; the token
        endpoint excluded if ``services_only``). Each fault is used once, in order."""
        self._rules.append(_Rule(path=path, services_only=services_only, queue=deque(faults)))

    def inject_always(
        self, fault: Fault, *, path: str | None = None, services_only: bool = False
    ) -> None:
        """Apply ``fault`` to every matching request until :meth:`clear` (queued faults first)."""
        self._rules.append(
            _Rule(path=path, services_only=services_only, queue=deque(), repeat=fault)
        )

    def clear(self) -> None:
        """Drop every scripted fault (records are kept)."""
        self._rules.clear()

    @property
    def pending(self) -> int:
        """Queued faults not used yet (a test can assert its whole script ran)."""
        return sum(len(rule.queue) for rule in self._rules)

    def records_for(self, path: str) -> list[FaultRecord]:
        """The requests that were made to ``path``, in order (one per attempt)."""
        return [record for record in self.records if record.path == path]

    def forwarded_to(self, path: str) -> int:
        """How many requests to ``path`` actually reached the inner transport (the server)."""
        return sum(1 for record in self.records if record.path == path and record.forwarded)

    def _next_fault(self, path: str) -> Fault | None:
        queued = next((r for r in self._rules if r.queue and r.matches(path)), None)
        if queued is not None:
            return queued.take()
        repeating = next((r for r in self._rules if r.repeat and r.matches(path)), None)
        return repeating.take() if repeating is not None else None

    async def send(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.url).path
        fault = self._next_fault(path)
        state = _Attempt(request=request, path=path, fault=fault)
        try:
            response = await self._apply(fault, request, state)
        except anyio.get_cancelled_exc_class():
            state.outcome = "cancelled"
            raise
        except BaseException as exc:
            state.outcome = type(exc).__name__
            raise
        else:
            state.outcome = f"HTTP {response.status_code}"
            return response
        finally:
            self.records.append(state.record())

    async def _apply(
        self, fault: Fault | None, request: HttpRequest, state: _Attempt
    ) -> HttpResponse:
        if fault is None or fault.kind is FaultKind.PASS:
            return await state.forward(self._inner)
        kind = fault.kind
        if kind is FaultKind.REFUSE:
            raise ConnectError("injected fault: connection refused")
        if kind is FaultKind.CONNECT_TIMEOUT:
            raise ConnectTimeoutError("injected fault: connect timed out")
        if kind is FaultKind.DELAY:
            return await self._delayed(fault, request, state)
        if kind is FaultKind.TRUNCATE:  # always needs the server's real answer
            response = await state.forward(self._inner)
            keep = len(response.content) // 2 if fault.keep is None else fault.keep
            return attrs.evolve(response, content=response.content[:keep])
        if fault.after_send:
            await state.forward(self._inner)  # the server acts; its answer is lost
        if kind is FaultKind.READ_TIMEOUT:
            raise ReadTimeoutError("injected fault: timed out waiting for the response")
        if kind is FaultKind.DROP:
            raise ConnectionDroppedError("injected fault: connection reset by peer")
        return HttpResponse(
            status_code=fault.status_code, headers=fault.headers, content=fault.body
        )

    async def _delayed(self, fault: Fault, request: HttpRequest, state: _Attempt) -> HttpResponse:
        budget = (request.timeout or self._default_timeout).total
        with anyio.move_on_after(budget):
            if fault.after_send:
                response = await state.forward(self._inner)
                await anyio.sleep(fault.seconds)
                return response
            await anyio.sleep(fault.seconds)
            return await state.forward(self._inner)
        raise ReadTimeoutError(f"no complete response within {budget}s")

    async def aclose(self) -> None:
        if self._close_inner:
            await self._inner.aclose()


@attrs.define(slots=True)
class _Attempt:
    """Mutable bookkeeping for one request while it is being processed."""

    request: HttpRequest
    path: str
    fault: Fault | None
    forwarded: bool = False
    outcome: str = "pending"

    async def forward(self, inner: Transport) -> HttpResponse:
        self.forwarded = True
        try:
            return await inner.send(self.request)
        except TransportError as exc:
            self.forwarded = exc.request_sent
            raise

    def record(self) -> FaultRecord:
        headers: Mapping[str, str] = {k.lower(): v for k, v in self.request.headers.items()}
        return FaultRecord(
            path=self.path,
            external_id=headers.get("x-external-id"),
            fault=self.fault,
            forwarded=self.forwarded,
            outcome=self.outcome,
            request=self.request,
        )

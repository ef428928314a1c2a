"""The transport protocol: one request in, one response out, nothing else.

A transport knows nothing about signing or SNAP. It must raise the SDK's
:class:`~ayolinx_async._errors.TransportError` subclasses so the client can tell "never left"
(safe to resend) from "may have been sent" (outcome unknown).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import attrs

__all__ = ["HttpRequest", "HttpResponse", "Timeout", "Transport"]

_Raw = TypeVar("_Raw")


@attrs.frozen(kw_only=True, slots=True)
class Timeout:
    """Timeouts in seconds: ``connect`` to open a connection, ``total`` for the whole exchange."""

    connect: float = 5.0
    total: float = 30.0

    def __attrs_post_init__(self) -> None:
        # Written so NaN fails too: ``nan <= 0`` is false, and a NaN deadline never comes.
        if not (self.connect > 0 and self.total > 0):
            raise ValueError("timeouts must be positive")


@attrs.frozen(kw_only=True, slots=True)
class HttpRequest:
    """An outgoing request: the body is the exact bytes that were signed."""

    method: str
    url: str
    # Signed headers carry the token and signature, the body personal data: neither is shown.
    headers: Mapping[str, str] = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)
    timeout: Timeout | None = None


@attrs.frozen(kw_only=True, slots=True)
class HttpResponse:
    """A received response. Header names are lower-case."""

    status_code: int
    # A token response body holds the access token: neither shown in a repr.
    headers: Mapping[str, str] = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)


class LazyHeaders(Mapping[str, str], Generic[_Raw]):
    """Response headers as :class:`HttpResponse` promises them (lower-case names, repeated
    ones joined with ``", "``), decoded from the HTTP library's own on first use: nothing on
    the path of a success reads them, and decoding costs ~1 µs a call (issue 15)."""

    __slots__ = ("_decode", "_decoded", "_raw")

    def __init__(self, raw: _Raw, decode: Callable[[_Raw], dict[str, str]]) -> None:
        self._raw = raw
        self._decode = decode
        self._decoded: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        decoded = self._decoded
        if decoded is None:
            decoded = self._decoded = self._decode(self._raw)
        return decoded

    def __getitem__(self, name: str) -> str:
        return self._headers()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers())

    def __len__(self) -> int:
        return len(self._headers())

    def __contains__(self, name: object) -> bool:
        return name in self._headers()

    def get(self, name: str, default: Any = None) -> Any:
        return self._headers().get(name, default)

    def __repr__(self) -> str:
        return f"LazyHeaders({self._headers()!r})"


@runtime_checkable
class Transport(Protocol):
    """Sends :class:`HttpRequest` objects. Implementations own their connections."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...

    async def aclose(self) -> None: ...


def running_asyncio() -> ModuleType | None:
    """The ``asyncio`` module inside an asyncio task, else ``None`` (trio, or no loop). Read
    from ``sys.modules``: code on asyncio has imported it, and the SDK need not (issue 15)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio if asyncio.current_task() is not None else None
    except RuntimeError:
        return None

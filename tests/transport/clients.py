"""The HTTP clients behind each transport, for tests that check who closes what."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import httpx

from ayolinx_async.transport import HttpxTransport, Transport
from ayolinx_async.transport.aiohttp import AiohttpTransport

#: Builds the transport under test: ``factory(timeout=None)``.
TransportFactory = Callable[..., Transport]


class UserOwnedClient:
    """A transport wrapped around an HTTP client the *user* created (and must close)."""

    def __init__(self, transport_kind: str) -> None:
        self.kind = transport_kind
        self._httpx: httpx.AsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None
        if transport_kind == "httpx":
            self._httpx = httpx.AsyncClient()
            self.transport: Transport = HttpxTransport(self._httpx)
        else:
            self._session = aiohttp.ClientSession()
            self.transport = AiohttpTransport(self._session)

    @property
    def is_closed(self) -> bool:
        if self._httpx is not None:
            return self._httpx.is_closed
        assert self._session is not None
        return self._session.closed

    async def aclose(self) -> None:
        if self._httpx is not None:
            await self._httpx.aclose()
        if self._session is not None:
            await self._session.close()


def own_client_is_closed(transport: Transport, before_close: object) -> bool:
    """Whether the HTTP client a transport created for itself has been closed."""
    if isinstance(transport, HttpxTransport):
        return transport.closed
    assert isinstance(before_close, aiohttp.ClientSession)
    return before_close.closed


def own_client(transport: Transport) -> object:
    """The HTTP client/session a transport currently uses."""
    if isinstance(transport, HttpxTransport):
        return transport.connection_pool
    assert isinstance(transport, AiohttpTransport)
    return transport.session

"""``transport="auto"``: aiohttp on asyncio when the ``[aiohttp]`` extra is installed, httpx
otherwise (trio, or no extra).

Chosen by measurement (benchmarks/README.md, issue 15): on asyncio the SDK on aiohttp carries
1.7-2.3x the calls per second of the SDK on httpx at 1 to 256 concurrent calls, because aiohttp
parses HTTP in C while httpcore runs h11 in Python. It is opt-in, not the default: the two
libraries read proxy settings and CA stores differently (aiohttp: the system store; httpx:
certifi), and a payment SDK must not change how it trusts a server because some other package
was installed. The choice is made at the first request, inside the running event loop.
"""

from __future__ import annotations

import importlib.util

from ._base import HttpRequest, HttpResponse, Timeout, Transport, running_asyncio
from ._httpx import HttpxTransport

__all__ = ["AutoTransport"]


class AutoTransport:
    """Picks :class:`~ayolinx_async.transport.aiohttp.AiohttpTransport` on asyncio when aiohttp
    is importable, :class:`HttpxTransport` otherwise, at the first request; ``chosen`` tells."""

    def __init__(self, *, timeout: Timeout | None = None, limit: int = 20) -> None:
        self._timeout = timeout
        self._limit = limit
        self._chosen: Transport | None = None
        self._closed = False

    @property
    def chosen(self) -> Transport | None:
        """The transport in use (``None`` before the first request)."""
        return self._chosen

    def _choose(self) -> Transport:
        if self._closed:
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        if running_asyncio() is not None and importlib.util.find_spec("aiohttp") is not None:
            from .aiohttp import AiohttpTransport

            chosen: Transport = AiohttpTransport(timeout=self._timeout, limit=self._limit)
        else:
            chosen = HttpxTransport(timeout=self._timeout)
        self._chosen = chosen
        return chosen

    async def send(self, request: HttpRequest) -> HttpResponse:
        chosen = self._chosen
        if chosen is None:
            chosen = self._choose()
        return await chosen.send(request)

    async def aclose(self) -> None:
        self._closed = True
        if self._chosen is not None:
            await self._chosen.aclose()

    def __repr__(self) -> str:
        return f"<AutoTransport chosen={type(self._chosen).__name__ if self._chosen else None}>"

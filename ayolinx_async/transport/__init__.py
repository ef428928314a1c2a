"""Pluggable HTTP transports.

``AiohttpTransport`` (the ``[aiohttp]`` extra) is exported lazily: importing this package never
imports aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import HttpRequest, HttpResponse, Timeout, Transport

if TYPE_CHECKING:
    from ._auto import AutoTransport as AutoTransport
    from ._httpx import HttpxTransport as HttpxTransport
    from ._pool import ConnectionPool as ConnectionPool
    from .aiohttp import AiohttpTransport as AiohttpTransport

__all__ = [
    "AutoTransport",
    "ConnectionPool",
    "HttpRequest",
    "HttpResponse",
    "HttpxTransport",
    "Timeout",
    "Transport",
]


def __getattr__(name: str) -> object:
    """Import transports on first access: a missing extra costs nothing, and httpx loads with
    the first transport, not with the package."""
    if name == "AiohttpTransport":
        from .aiohttp import AiohttpTransport

        return AiohttpTransport
    if name == "ConnectionPool":
        from ._pool import ConnectionPool

        return ConnectionPool
    if name == "HttpxTransport":
        from ._httpx import HttpxTransport

        return HttpxTransport
    if name == "AutoTransport":
        from ._auto import AutoTransport

        return AutoTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Pluggable HTTP transports.

``AiohttpTransport`` (the ``[aiohttp]`` extra) is exported lazily: importing this package never
imports aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._auto import AutoTransport
from ._base import HttpRequest, HttpResponse, Timeout, Transport
from ._httpx import HttpxTransport

if TYPE_CHECKING:
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
    """Import optional transports on first access, so a missing extra costs nothing."""
    if name == "AiohttpTransport":
        from .aiohttp import AiohttpTransport

        return AiohttpTransport
    if name == "ConnectionPool":  # httpcore loads with the first transport, not the package
        from ._pool import ConnectionPool

        return ConnectionPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

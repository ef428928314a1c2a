"""Starlette adapter (extra ``[starlette]``): routes or a whole app around a
:class:`~ayolinx_async.callbacks.CallbackHandler`. The FastAPI adapter reuses these endpoints.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from .._errors import ConfigurationError

try:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.routing import Route as StarletteRoute
except ImportError:  # pragma: no cover - exercised by a test that hides the module
    raise ConfigurationError(
        "ayolinx_async.integrations.starlette needs Starlette:"
        " pip install 'ayolinx-async[starlette]'"
    ) from None

from ..callbacks._answers import CallbackResponse
from ..callbacks._handler import CallbackHandler
from ..callbacks._routes import Route
from ..callbacks._verify import Headers

__all__ = ["ALL_METHODS", "callback_app", "callback_endpoint", "callback_routes", "read_body"]

#: Every method is routed to the handler so a wrong one gets a SNAP JSON 405, not HTML.
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_DIGITS = re.compile(r"[0-9]+")


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw request body, or ``None`` as soon as it exceeds ``limit`` bytes."""
    if _declared_length(request.headers.get("content-length")) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _declared_length(declared: str | None) -> int:
    """A ``Content-Length`` in ASCII digits, else 0 (the streamed size still counts).

    ``str.isdigit`` accepts ``'²'``, which ``int`` refuses; and ``int`` refuses more than
    4300 digits, so an absurdly long value is read as "too large" without converting it.
    """
    if declared is None or not _DIGITS.fullmatch(declared):
        return 0
    digits = declared.lstrip("0")
    return sys.maxsize if len(digits) > 18 else int(digits or "0")


def _to_response(response: CallbackResponse) -> Response:
    return Response(content=response.body, status_code=response.status, headers=response.headers)


def callback_endpoint(
    handler: CallbackHandler, route: Route
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette/FastAPI endpoint serving one handler route (signs with the full URL path)."""

    async def endpoint(request: Request) -> Response:
        body = await read_body(request, handler.max_body_size)
        if body is None:
            return _to_response(handler.payload_too_large(route))
        view = Headers(request.headers.raw)
        result = await handler._answer(request.method, request.url.path, view, body, route)
        return _to_response(result)

    endpoint.__name__ = f"ayolinx_{type(route).__name__.lower()}"
    return endpoint


def callback_routes(handler: CallbackHandler) -> list[BaseRoute]:
    """One Starlette ``Route`` per handler route, for ``Starlette(routes=...)`` or a ``Mount``."""
    return [
        StarletteRoute(route.path, callback_endpoint(handler, route), methods=list(ALL_METHODS))
        for route in handler.routes
    ]


def callback_app(handler: CallbackHandler, **starlette_options: Any) -> Starlette:
    """A Starlette app serving only the handler's routes."""
    return Starlette(routes=callback_routes(handler), **starlette_options)

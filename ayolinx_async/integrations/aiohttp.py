"""aiohttp adapter (extra ``[aiohttp]``): routes or a sub-app serving a
:class:`~ayolinx_async.callbacks.CallbackHandler`.

``app.add_routes(callback_routes(handler))`` or ``app.add_subapp("/hooks", callback_app(handler))``;
the signed path is the full path Ayolinx called.

``setup_client(app)`` keeps one :class:`~ayolinx_async.AyolinxClient` for the app's lifetime (a
``cleanup_ctx``); handlers read it as ``request.app[AYOLINX_CLIENT]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .._client import AyolinxClient
from .._errors import ConfigurationError

try:
    from aiohttp import web
except ImportError:  # pragma: no cover - exercised by a test that hides the module
    raise ConfigurationError(
        "ayolinx_async.integrations.aiohttp needs aiohttp: pip install 'ayolinx-async[aiohttp]'"
    ) from None

from ..callbacks._answers import CallbackResponse
from ..callbacks._handler import CallbackHandler
from ..callbacks._routes import Route
from ..callbacks._verify import Headers

__all__ = [
    "AYOLINX_CLIENT",
    "add_callback_routes",
    "callback_app",
    "callback_endpoint",
    "callback_routes",
    "client_context",
    "setup_client",
]

#: The app key under which :func:`setup_client` keeps the client: ``app[AYOLINX_CLIENT]``.
AYOLINX_CLIENT = web.AppKey("ayolinx_client", AyolinxClient)


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    declared = request.content_length
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _to_response(response: CallbackResponse) -> web.Response:
    return web.Response(status=response.status, body=response.body, headers=response.headers)


def callback_endpoint(
    handler: CallbackHandler, route: Route
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp request handler serving one handler route."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        body = await _read_body(request, handler.max_body_size)
        if body is None:
            return _to_response(handler.payload_too_large(route))
        view = Headers(request.raw_headers)
        result = await handler._answer(request.method, request.path, view, body, route)
        return _to_response(result)

    return endpoint


def callback_routes(handler: CallbackHandler) -> list[web.RouteDef]:
    """One catch-all-method route per handler route (a wrong method gets a SNAP JSON 405)."""
    return [
        web.route("*", route.path, callback_endpoint(handler, route)) for route in handler.routes
    ]


def add_callback_routes(app: web.Application, handler: CallbackHandler) -> None:
    """Add the handler's routes to an existing application."""
    app.add_routes(callback_routes(handler))


def callback_app(handler: CallbackHandler, **app_options: Any) -> web.Application:
    """A (sub-)application serving only the handler's routes."""
    app = web.Application(**app_options)
    add_callback_routes(app, handler)
    return app


def client_context(
    client: AyolinxClient | Callable[[], AyolinxClient] = AyolinxClient.from_env,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx`` that opens one :class:`AyolinxClient` at startup, stores it
    as ``app[AYOLINX_CLIENT]`` and closes it at cleanup."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        opened = client if isinstance(client, AyolinxClient) else client()
        async with opened:
            app[AYOLINX_CLIENT] = opened
            yield

    return run


def setup_client(
    app: web.Application,
    client: AyolinxClient | Callable[[], AyolinxClient] = AyolinxClient.from_env,
) -> None:
    """Give ``app`` one :class:`AyolinxClient` for its lifetime (see :func:`client_context`)."""
    app.cleanup_ctx.append(client_context(client))

"""FastAPI adapter (extra ``[fastapi]``): an ``APIRouter`` serving a
:class:`~ayolinx_async.callbacks.CallbackHandler`, and one :class:`~ayolinx_async.AyolinxClient`
for the app's lifetime to make payments with.

``app.include_router(callback_router(handler))``. A router ``prefix`` is fine: each route is
bound directly, and the signed path is the full path Ayolinx called.

``FastAPI(lifespan=client_lifespan())`` opens the client when the app starts and closes it at
shutdown; endpoints take it as ``client: AyolinxClientDep`` (or ``Depends(get_client)``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from .._client import AyolinxClient
from .._errors import ConfigurationError

try:
    from fastapi import APIRouter, Depends, FastAPI, Request
except ImportError:  # pragma: no cover - exercised by a test that hides the module
    raise ConfigurationError(
        "ayolinx_async.integrations.fastapi needs FastAPI: pip install 'ayolinx-async[fastapi]'"
    ) from None

from ..callbacks._handler import CallbackHandler
from .starlette import ALL_METHODS, callback_endpoint

__all__ = ["AyolinxClientDep", "callback_router", "client_lifespan", "get_client"]

#: Where the lifespan keeps the client: ``app.state.ayolinx_client``.
STATE_KEY = "ayolinx_client"
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def callback_router(
    handler: CallbackHandler, *, include_in_schema: bool = False, **router_options: Any
) -> APIRouter:
    """An ``APIRouter`` with one endpoint per handler route (raw body, no JSON parsing)."""
    router = APIRouter(**router_options)
    for route in handler.routes:
        router.add_api_route(
            route.path,
            callback_endpoint(handler, route),
            methods=list(ALL_METHODS),
            include_in_schema=include_in_schema,
            response_model=None,
        )
    return router


def client_lifespan(
    client: AyolinxClient | Callable[[], AyolinxClient] = AyolinxClient.from_env,
    *,
    lifespan: Lifespan | None = None,
) -> Lifespan:
    """A FastAPI ``lifespan`` holding one :class:`AyolinxClient` for the app's lifetime: one
    token cache and one connection pool shared by every request, closed at shutdown.

    ``client`` is a client or a factory (default :meth:`AyolinxClient.from_env`); your own
    ``lifespan``, if any, runs inside it, with the client already open.
    """

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[Any]:
        opened = client if isinstance(client, AyolinxClient) else client()
        async with opened:
            setattr(app.state, STATE_KEY, opened)
            try:
                if lifespan is None:
                    yield None
                else:
                    async with lifespan(app) as state:
                        yield state
            finally:
                setattr(app.state, STATE_KEY, None)

    return run


def get_client(request: Request) -> AyolinxClient:
    """FastAPI dependency: the app's :class:`AyolinxClient` (opened by :func:`client_lifespan`)."""
    found = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(found, AyolinxClient):
        raise ConfigurationError(
            "no AyolinxClient on this app: create it with FastAPI(lifespan=client_lifespan(...))"
        )
    return found


#: ``client: AyolinxClientDep`` in an endpoint's signature receives the app's client.
AyolinxClientDep = Annotated[AyolinxClient, Depends(get_client)]

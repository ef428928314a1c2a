"""FastAPI adapter (extra ``[fastapi]``): an ``APIRouter`` serving a
:class:`~ayolinx_async.callbacks.CallbackHandler`.

``app.include_router(callback_router(handler))``. A router ``prefix`` is fine: each route is
bound directly, and the signed path is the full path Ayolinx called.
"""

from __future__ import annotations

from typing import Any

from .._errors import ConfigurationError

try:
    from fastapi import APIRouter
except ImportError:  # pragma: no cover - exercised by a test that hides the module
    raise ConfigurationError(
        "ayolinx_async.integrations.fastapi needs FastAPI: pip install 'ayolinx-async[fastapi]'"
    ) from None

from ..callbacks._handler import CallbackHandler
from .starlette import ALL_METHODS, callback_endpoint

__all__ = ["callback_router"]


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

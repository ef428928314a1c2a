"""Thin adapters that serve a :class:`~ayolinx_async.callbacks.CallbackHandler` from a web
framework: each captures the raw body (bounded) and calls the handler.

- :mod:`.asgi` — a plain ASGI app, no framework needed (mount it anywhere).
- :mod:`.starlette` — Starlette routes/app (extra ``[starlette]``).
- :mod:`.fastapi` — an ``APIRouter`` (extra ``[fastapi]``).
- :mod:`.aiohttp` — aiohttp routes/sub-app (extra ``[aiohttp]``).

Framework imports happen only inside those modules; a missing framework raises
:class:`~ayolinx_async._errors.ConfigurationError` naming the extra to install.
"""

from .asgi import CallbackASGIApp

__all__ = ["CallbackASGIApp"]

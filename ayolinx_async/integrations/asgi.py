"""A plain ASGI app serving a :class:`~ayolinx_async.callbacks.CallbackHandler` (no framework).

Mount it at the root or under a prefix (Starlette ``Mount``, any ASGI router): routing uses the
path below ``root_path``, while the signed path is the full path Ayolinx called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._asgi_body import BodyTooLarge, ClientDisconnected, read_body
from ..callbacks._answers import NOTIFY_ACK, NOTIFY_ACK_PAIRS, header_pairs
from ..callbacks._handler import CallbackHandler
from ..callbacks._verify import Headers

__all__ = ["CallbackASGIApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :] or "/"
    return path


class CallbackASGIApp:
    """ASGI 3 app: ``uvicorn`` can serve it directly, or mount it inside another app."""

    __slots__ = ("_handler",)

    def __init__(self, handler: CallbackHandler) -> None:
        self._handler = handler

    def __repr__(self) -> str:
        return f"<CallbackASGIApp {self._handler!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1003})
            return
        handler = self._handler
        limit = handler.max_body_size
        raw_headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        if type(raw_headers) is not list:  # servers pass a list; copy anything else once
            raw_headers = list(raw_headers)
        route_path = _route_path(scope) if scope.get("root_path") else scope["path"]
        route = handler.route_for(route_path)
        # One view of the pairs for the Content-Length check and the handler (no second copy).
        view = Headers(raw_headers)
        declared = view.get("content-length")
        try:
            too_large = declared is not None and int(declared) > limit
        except ValueError:  # not an integer: the body read is capped all the same
            too_large = False
        try:
            if too_large:
                raise BodyTooLarge
            body = await _read_body(receive, limit)
        except BodyTooLarge:
            response = handler.payload_too_large(route)
        except ClientDisconnected:
            return
        else:
            path = scope["path"] if route is not None else route_path
            response = await handler._answer(scope["method"], path, view, body, route)
        headers = list(NOTIFY_ACK_PAIRS) if response is NOTIFY_ACK else header_pairs(response)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})


async def _read_body(receive: Receive, limit: int) -> bytes:
    """:func:`read_body`, with the usual case read here: a callback's body arrives whole in
    the first message (no coroutine, list or join for it, issue 15)."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body = message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge
        return body if type(body) is bytes else bytes(body)
    replayed = [message]

    async def first_again() -> Message:
        return replayed.pop() if replayed else await receive()

    return await read_body(first_again, limit)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

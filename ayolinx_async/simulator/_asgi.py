"""Raw ASGI plumbing: read a request, answer JSON or HTML, drop a connection on purpose.

No web framework: the simulator is a plain ASGI 3 callable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import anyio
import attrs
import httpx

from .._asgi_body import read_body

__all__ = [
    "ASGIReceive",
    "ASGISend",
    "Request",
    "Scope",
    "drop_connection",
    "read_request",
    "run_lifespan",
    "send_bytes",
    "send_json",
]

Scope = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY = 1 << 20


@attrs.frozen(kw_only=True, slots=True)
class Request:
    """An HTTP request as the simulator sees it: raw body bytes, lower-case header names."""

    method: str
    path: str
    query: str
    # Authorization and X-SIGNATURE live here: never in a repr.
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    scheme: str
    host: str

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` the client used (for links that point back at us)."""
        return f"{self.scheme}://{self.host}"


async def read_request(scope: Scope, receive: ASGIReceive) -> Request:
    """Collect the whole body; raise :class:`BodyTooLarge` past :data:`MAX_BODY` and
    :class:`ClientDisconnected` if the client left before it ended."""
    body = await read_body(receive, MAX_BODY)
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        # Repeated headers are joined as HTTP allows; a signed header must not be repeated.
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    server = scope.get("server") or ("localhost", None)
    host = headers.get("host") or (f"{server[0]}:{server[1]}" if server[1] else str(server[0]))
    return Request(
        method=scope.get("method", "GET").upper(),
        path=scope.get("path", "/"),
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        scheme=scope.get("scheme", "http"),
        host=host,
    )


async def send_bytes(
    send: ASGISend,
    status: int,
    body: bytes,
    *,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send a complete response."""
    raw_headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
    ]
    for name, value in (headers or {}).items():
        raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def encode_json(payload: Mapping[str, Any] | list[Any]) -> bytes:
    """Compact UTF-8 JSON, the way Ayolinx answers."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def send_json(
    send: ASGISend,
    status: int,
    payload: Mapping[str, Any] | list[Any],
    *,
    headers: Mapping[str, str] | None = None,
) -> None:
    await send_bytes(
        send, status, encode_json(payload), content_type="application/json", headers=headers
    )


async def drop_connection(send: ASGISend) -> None:
    """Close the connection without any answer, after the request was processed.

    Under uvicorn the ``send`` callable is bound to the request cycle, which holds the asyncio
    transport: closing it sends a FIN with zero response bytes, exactly what a crashed server
    or a cutting proxy produces. In process (``httpx.ASGITransport``) there is no socket, so the
    same effect is produced by raising the error httpx itself raises for such a connection.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        transport.close()
        # Let connection_lost run so the server marks the cycle disconnected and does not try
        # to answer with its own 500.
        for _ in range(50):
            if getattr(cycle, "disconnected", True):
                break
            await anyio.sleep(0.001)
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


async def run_lifespan(
    enter: Callable[[], Awaitable[object]],
    exit: Callable[[None, None, None], Awaitable[object]],
    receive: ASGIReceive,
    send: ASGISend,
) -> None:
    """Run background work between a server's startup and shutdown (the ASGI lifespan)."""
    started = False
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await enter()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            started = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if started:
                await exit(None, None, None)
            await send({"type": "lifespan.shutdown.complete"})
            return

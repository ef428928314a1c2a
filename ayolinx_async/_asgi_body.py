"""Reading an ASGI request body with a size cap: shared by the callback ASGI app and the
simulator, the two ASGI servers in the package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BodyTooLarge", "ClientDisconnected", "read_body"]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class BodyTooLarge(Exception):
    """The body grew past the limit (answer 413; the rest is never read)."""


class ClientDisconnected(Exception):
    """The client left before the body ended (nobody to answer)."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, read until ``more_body`` ends; stops as soon as it exceeds ``limit``
    bytes, so an oversized upload is never buffered whole."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)

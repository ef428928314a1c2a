"""A misbehaving HTTP/1.1 server on 127.0.0.1 (anyio: asyncio and trio) that counts the
connections it holds open, so a test can prove the client's pool leaks none.

The path picks the misbehaviour: ``/fail/503`` (JSON, keep-alive), ``/fail/html`` (502 page,
then close), ``/fail/drop`` (close without an answer), ``/fail/partial`` (a body shorter than
its Content-Length, then close), ``/fail/garbage`` (not HTTP), ``/fail/hang`` (no answer until
the client gives up). The token endpoint answers normally.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator

import anyio
import anyio.abc

TOKEN_BODY = json.dumps(
    {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": "pool-test-token-3c1f9a7e5b2d4f60",
        "tokenType": "Bearer",
        "expiresIn": "900",
    }
).encode()


def _response(status: int, body: bytes, *, close: bool, content_type: str) -> bytes:
    head = [
        f"HTTP/1.1 {status} X",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close" if close else "Connection: keep-alive",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class FaultyServer:
    """Counts ``open`` connections (accepted, not yet closed) and every request it parsed."""

    def __init__(self) -> None:
        self.open = 0
        self.accepted = 0
        self.requests = 0
        self.port = 0
        self._closed: anyio.Event | None = None

    async def _read(self, stream: anyio.abc.ByteStream, buffer: bytearray) -> str | None:
        """Read one request; return its path (``None`` when the client hung up)."""
        while b"\r\n\r\n" not in buffer:
            try:
                buffer += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return None
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(rest) < length:
            try:
                rest += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return None
        buffer[:] = rest[length:]
        self.requests += 1
        return lines[0].split(" ")[1]

    async def _answer(self, stream: anyio.abc.ByteStream, path: str) -> bool:
        """Misbehave as ``path`` says; True to keep the connection for another request."""
        if path.endswith("/access-token/b2b"):
            await stream.send(
                _response(200, TOKEN_BODY, close=False, content_type="application/json")
            )
            return True
        kind = path.rsplit("/", 1)[-1]
        if kind == "503":
            body = b'{"responseCode":"5035100","responseMessage":"Service Unavailable"}'
            await stream.send(_response(503, body, close=False, content_type="application/json"))
            return True
        if kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            await stream.send(_response(502, page, close=True, content_type="text/html"))
        elif kind == "partial":
            full = _response(
                200,
                b'{"responseCode":"2005100","x":"' + b"y" * 200 + b'"}',
                close=False,
                content_type="application/json",
            )
            await stream.send(full[: len(full) - 150])
        elif kind == "garbage":
            await stream.send(b"SPDY/9 nonsense\r\n\r\n")
        elif kind == "hang":
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                while True:  # until the client closes its side
                    await stream.receive()
        return False  # "drop" and everything above: close

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        self.open += 1
        self.accepted += 1
        try:
            buffer = bytearray()
            while True:
                path = await self._read(stream, buffer)
                if path is None or not await self._answer(stream, path):
                    return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return
        finally:
            self.open -= 1
            if self._closed is not None:
                self._closed.set()
            with contextlib.suppress(Exception):
                await stream.aclose()

    async def settle(self, expected_open: int, timeout: float = 2.0) -> int:
        """Wait (briefly) for the open count to drop to ``expected_open``; return it."""
        with anyio.move_on_after(timeout):
            while self.open > expected_open:
                self._closed = anyio.Event()
                await self._closed.wait()
        return self.open


@contextlib.asynccontextmanager
async def faulty_server() -> AsyncIterator[FaultyServer]:
    server = FaultyServer()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    server.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server._serve)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()


def refused_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

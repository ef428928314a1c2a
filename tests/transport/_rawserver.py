"""A tiny HTTP/1.1 server on 127.0.0.1 that can misbehave on purpose (anyio: asyncio and trio).

Each test hands it a behaviour coroutine that answers one parsed request by writing raw bytes,
so a test can hang, drop the connection mid-response or speak garbage.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import anyio
import anyio.abc
import attrs


@attrs.frozen(kw_only=True)
class Received:
    """One request as the server parsed it off the wire."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None


class Connection:
    """One accepted connection: parses requests, writes raw bytes."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def _fill(self) -> bool:
        try:
            chunk = await self._stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        self._buffer += chunk
        return True

    async def read_request(self) -> Received | None:
        """The next request on this connection, or ``None`` when the client hung up."""
        while b"\r\n\r\n" not in self._buffer:
            if not await self._fill():
                return None
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
        pairs = [(k, v) for k, v in headers]
        length = int(next((v for k, v in pairs if k.lower() == "content-length"), "0"))
        while len(self._buffer) < length:
            if not await self._fill():
                return None
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return Received(method=method, target=target, headers=pairs, body=body)

    async def send(self, data: bytes) -> None:
        await self._stream.send(data)

    async def close(self) -> None:
        await self._stream.aclose()


#: Answers one request; returns True to keep the connection open for the next one.
Behaviour = Callable[[Connection, Received], Awaitable[bool]]


def http_response(
    status: int = 200,
    body: bytes = b'{"responseCode":"2005100"}',
    headers: list[tuple[str, str]] | None = None,
    reason: str = "OK",
) -> bytes:
    """A well-formed HTTP/1.1 response with Content-Length."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    for name, value in headers if headers is not None else [("Content-Type", "application/json")]:
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def answer_ok(conn: Connection, request: Received) -> bool:
    await conn.send(http_response())
    return True


class RawServer:
    """Records every request and counts accepted connections."""

    def __init__(self, behaviour: Behaviour, port: int) -> None:
        self.behaviour = behaviour
        self.port = port
        self.requests: list[Received] = []
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, stream: anyio.abc.ByteStream) -> None:
        self.connections += 1
        conn = Connection(stream)
        try:
            while True:
                request = await conn.read_request()
                if request is None:
                    return
                self.requests.append(request)
                if not await self.behaviour(conn, request):
                    return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()


@contextlib.asynccontextmanager
async def raw_server(behaviour: Behaviour = answer_ok) -> AsyncIterator[RawServer]:
    """Serve ``behaviour`` on an ephemeral 127.0.0.1 port for the duration of the block."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    server = RawServer(behaviour, port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server._serve)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()


def refused_url() -> str:
    """A 127.0.0.1 URL whose port has no listener (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1.0/qr/qr-mpm-query"


@contextlib.contextmanager
def unanswered_url() -> Iterator[str]:
    """A 127.0.0.1 URL where connecting hangs: the listener's accept queue is full.

    Linux drops SYNs to a listener whose backlog is exhausted, so ``connect`` neither succeeds
    nor fails until the client's connect timeout fires.
    """
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(4):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(address)
        yield f"http://127.0.0.1:{address[1]}/v1.0/qr/qr-mpm-query"

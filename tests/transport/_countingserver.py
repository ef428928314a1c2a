"""A fast keep-alive HTTP/1.1 server on 127.0.0.1 that answers fixed SNAP JSON and counts.

It runs in a child process (its own interpreter, so it never competes with the client for the
GIL), so tests on asyncio and trio alike can drive thousands of concurrent calls at it over
real sockets. It does not check signatures. ``GET /__counts`` answers the counts as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import attrs

TOKEN_PATH = b"/v1.0/access-token/b2b"

_TOKEN_BODY = json.dumps(
    {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": "counting-server-token",
        "tokenType": "Bearer",
        "expiresIn": "900",
    }
).encode()
_SERVICE_BODY = json.dumps(
    {"responseCode": "2005100", "responseMessage": "Successful", "latestTransactionStatus": "00"}
).encode()


def _response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


_TOKEN_ANSWER = _response(_TOKEN_BODY)
_SERVICE_ANSWER = _response(_SERVICE_BODY)


@attrs.define
class Counts:
    """What the server saw: requests by kind, connections, and the most open at once."""

    token_requests: int = 0
    service_requests: int = 0
    connections: int = 0
    open_connections: int = 0
    max_open_connections: int = 0


class _Protocol(asyncio.Protocol):
    """Parses pipelined/keep-alive requests with Content-Length bodies; answers each at once."""

    def __init__(self, counts: Counts) -> None:
        self._counts = counts
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        counts = self._counts
        counts.connections += 1
        counts.open_connections += 1
        counts.max_open_connections = max(counts.max_open_connections, counts.open_connections)

    def connection_lost(self, exc: Exception | None) -> None:
        self._counts.open_connections -= 1

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            marker = head.lower().find(b"content-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker)
                length = int(head[marker + 15 : line_end if line_end >= 0 else None])
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            target = head.split(b" ", 2)[1]
            assert self._transport is not None
            if target == b"/__counts":
                self._transport.write(_response(json.dumps(attrs.asdict(self._counts)).encode()))
            elif target == TOKEN_PATH:
                self._counts.token_requests += 1
                self._transport.write(_TOKEN_ANSWER)
            else:
                self._counts.service_requests += 1
                self._transport.write(_SERVICE_ANSWER)
        self._buffer = buffer


@contextlib.contextmanager
def counting_server() -> Iterator[tuple[str, Counts]]:
    """Serve on an ephemeral 127.0.0.1 port in a child process; yields the base URL and a
    :class:`Counts` refreshed from the server by :func:`refresh`."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.transport._countingserver"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}", Counts()
    finally:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.close()
        child.stdout.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def refresh(url: str, counts: Counts) -> Counts:
    """Update ``counts`` with what the server has seen so far (a blocking GET)."""
    with urllib.request.urlopen(url + "/__counts", timeout=10) as answer:
        seen = json.loads(answer.read())
    for name, value in seen.items():
        setattr(counts, name, value)
    return counts


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    counts = Counts()
    server = await loop.create_server(
        lambda: _Protocol(counts), "127.0.0.1", 0, backlog=16384, reuse_address=True
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.buffer.read)  # until the parent closes stdin
    server.close()


if __name__ == "__main__":
    asyncio.run(_serve())

"""Hostile peers against the built-in pool (asyncio streams on asyncio, httpcore's backend on
trio): a request that never left must not be reported as one that may have, and a connection
given up on must not wait for a peer that stopped reading (``transport/_streams.py``)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import anyio
import pytest

from ayolinx_async._errors import (
    ConnectError,
    ConnectTimeoutError,
    TransportError,
    WriteTimeoutError,
)
from ayolinx_async.transport import HttpRequest, HttpxTransport, Timeout

pytestmark = pytest.mark.anyio

#: Short enough for a fast suite; a handshake that hangs on close overran these by ``connect``.
_TIMEOUT = Timeout(connect=0.2, total=0.3)


@pytest.fixture
def httpx_only(transport_kind: str) -> None:
    if transport_kind != "httpx":
        pytest.skip("the built-in pool belongs to the httpx transport")


def _reset(sock: socket.socket) -> None:
    """Close with an RST, not a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _reset_after_hello(sock: socket.socket) -> None:
    sock.recv(4096)  # the TLS ClientHello
    _reset(sock)


def _say_nothing(sock: socket.socket) -> None:
    time.sleep(0.5)
    sock.close()


def _serve(behaviour: Callable[[socket.socket], None]) -> Iterator[int]:
    """A 127.0.0.1 listener running ``behaviour`` on each accepted socket; yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    # A small receive buffer, so a peer that stops reading fills up quickly.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=behaviour, args=(sock,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.fixture
def resets_handshake() -> Iterator[int]:
    yield from _serve(_reset_after_hello)


@pytest.fixture
def silent() -> Iterator[int]:
    yield from _serve(_say_nothing)


async def _send(url: str, content: bytes = b"{}") -> tuple[type[BaseException], float]:
    transport = HttpxTransport(timeout=_TIMEOUT)
    request = HttpRequest(method="POST", url=url, headers={}, content=content)
    started = anyio.current_time()
    try:
        with pytest.raises(TransportError) as caught:
            await transport.send(request)
    finally:
        await transport.aclose()
    return caught.type, anyio.current_time() - started


@pytest.mark.usefixtures("httpx_only")
async def test_a_handshake_reset_by_the_server_is_a_connect_error(resets_handshake: int) -> None:
    kind, _ = await _send(f"https://127.0.0.1:{resets_handshake}/v1.0/x")
    assert kind is ConnectError  # never sent: not a read timeout


@pytest.mark.usefixtures("httpx_only")
async def test_a_silent_handshake_is_a_connect_timeout(silent: int) -> None:
    kind, took = await _send(f"https://127.0.0.1:{silent}/v1.0/x")
    assert kind is ConnectTimeoutError  # never sent: not a read timeout
    assert took < _TIMEOUT.total + _TIMEOUT.connect


@pytest.mark.usefixtures("httpx_only")
async def test_a_peer_that_stops_reading_is_a_write_timeout(silent: int) -> None:
    kind, took = await _send(f"http://127.0.0.1:{silent}/v1.0/x", b"x" * 16_000_000)
    assert kind is WriteTimeoutError
    assert took < _TIMEOUT.total + _TIMEOUT.connect

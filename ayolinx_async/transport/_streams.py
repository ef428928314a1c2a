"""httpcore's network layer on plain asyncio streams, for the built-in pool on asyncio.

httpcore reaches asyncio through anyio: every read and write opens a cancel scope, a timeout
scope and an exception-mapping context, about a fifth of the default transport's CPU per call
(benchmarks/README.md). Here a read is ``StreamReader.read`` under a deadline of the backend's
shared timer (``_deadlines.Deadlines``) and a write is ``write`` + ``drain``, under a deadline
only when ``drain`` may wait. Failures map to the httpcore exceptions anyio's backend raises, in the
same cases, so the transport's "was it sent?" mapping is unchanged. On trio the pool keeps
httpcore's own backend.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

from ._deadlines import Deadlines

__all__ = ["AsyncioBackend"]

#: ``(level, option, value)`` as httpcore passes socket options.
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection as httpcore sees it."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        deadlines: Deadlines | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        #: Shared by the backend's connections: one loop timer for all their reads.
        self._deadlines = deadlines if deadlines is not None else Deadlines()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            with self._deadlines.within(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:  # before OSError: TimeoutError is one
            raise httpcore.ReadTimeout("timed out reading the response") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        writer = self._writer
        try:
            if writer.is_closing():
                raise ConnectionResetError("connection closed")
            writer.write(buffer)
            if not writer.transport.get_write_buffer_size():
                # All taken by the socket (the usual request): ``drain`` cannot wait, so it
                # needs no deadline (a loop timer per write cost ~4 µs of a call).
                await writer.drain()
            else:
                with self._deadlines.within(timeout):
                    await writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # Aborted, as anyio's backend does: a graceful close waits for unsent bytes (a peer
        # that stopped reading) or for a protocol a failed TLS handshake detached, forever.
        self._writer.transport.abort()
        await asyncio.sleep(0)  # the loop closes the socket on its next turn

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:  # certificate and handshake failures included
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # An idle keep-alive connection that is readable was closed by the server (or
            # sent garbage): httpcore then opens a new one instead of reusing it.
            return self._reader.at_eof() or _readable(self._writer.get_extra_info("socket"))
        return None


def _readable(sock: socket.socket | None) -> bool:
    """Data or EOF waiting on ``sock`` (a closed socket counts as readable)."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


#: The loops whose ``create_connection`` takes ``happy_eyeballs_delay`` (asyncio's own).
_BaseLoop = asyncio.BaseEventLoop
_HAPPY_EYEBALLS: dict[str, Any] = {"happy_eyeballs_delay": 0.25}


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens :class:`AsyncioStream` connections (TCP_NODELAY is asyncio's default)."""

    def __init__(self) -> None:
        self._deadlines = Deadlines()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        # Happy eyeballs, as anyio does: a silent first address (IPv6, say) does not cost the
        # whole connect timeout while the next one would answer. Only asyncio's own loops take
        # the argument: uvloop (uvicorn's default loop) raises TypeError on it.
        eyeballs = _HAPPY_EYEBALLS if isinstance(asyncio.get_running_loop(), _BaseLoop) else {}
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=local, **eyeballs
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer, self._deadlines)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

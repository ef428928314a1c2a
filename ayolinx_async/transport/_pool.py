"""A last-in-first-out pool of httpcore HTTP/1.1 connections for the default transport.

httpcore's own pool re-scans every queued request against every connection whenever one is
released (quadratic under load: at 16 concurrent calls bare httpx ran at 4% of a raw asyncio
client, benchmarks/README.md). Here the transport's gate already bounds in-flight requests to
the pool size, so a request never waits inside the pool: it takes the most recently used idle
connection of its origin (warm, least likely to have been closed by the server) or opens one.
Connections are httpcore's, so TLS, keep-alive expiry, timeouts and trio support are httpcore's;
on asyncio they run over plain asyncio streams (``_streams.py``), not through anyio.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import anyio
import attrs
import h11
import httpcore
import httpx

from ._base import running_asyncio

__all__ = ["ConnectionPool", "Target", "parse_target"]

_DEFAULT_PORTS = {b"http": 80, b"https": 443}


@attrs.frozen(slots=True)
class Target:
    """Where one URL goes: the connection origin, the request target and the Host header."""

    origin: httpcore.Origin
    url: httpcore.URL
    host: bytes
    #: ``(scheme, host, port)``: httpcore's ``Origin`` is not hashable.
    key: tuple[bytes, bytes, int]


def parse_target(url: str) -> Target:
    """Parse ``url`` once (httpx's parser: IDNA, IPv6, percent-encoding); ``ValueError`` for a
    URL that is not absolute ``http``/``https``."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(str(exc)) from None
    scheme = parsed.raw_scheme
    if scheme not in _DEFAULT_PORTS or not parsed.raw_host:
        raise ValueError(f"not an absolute http(s) URL: {parsed.scheme or '(none)'}://…")
    port = parsed.port or _DEFAULT_PORTS[scheme]
    return Target(
        origin=httpcore.Origin(scheme, parsed.raw_host, port),
        url=httpcore.URL(scheme=scheme, host=parsed.raw_host, port=port, target=parsed.raw_path),
        host=parsed.netloc,
        key=(scheme, parsed.raw_host, port),
    )


class ConnectionPool:
    """Idle connections per origin, newest first; at most ``max_connections`` open in total and
    ``max_keepalive`` kept idle. Callers bound concurrency (the transport's gate) to
    ``max_connections``; the pool itself never waits."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_keepalive: int,
        keepalive_expiry: float | None,
        ssl_context: ssl.SSLContext,
    ) -> None:
        self._max_connections = max_connections
        self._max_keepalive = max_keepalive
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        self._busy = 0
        self._closed = False
        self._asyncio_backend: httpcore.AsyncNetworkBackend | None = None

    @property
    def idle(self) -> int:
        """Connections kept alive, waiting for a request."""
        return self._idle_count

    @property
    def busy(self) -> int:
        """Connections carrying a request right now."""
        return self._busy

    @property
    def ssl_context(self) -> ssl.SSLContext:
        return self._ssl_context

    def idle_connections(self) -> list[httpcore.AsyncHTTPConnection]:
        """The idle connections, for tests and introspection."""
        return [connection for stack in self._idle.values() for connection in stack]

    async def exchange(
        self,
        method: bytes,
        target: Target,
        headers: list[tuple[bytes, bytes]],
        content: bytes,
        extensions: Mapping[str, object],
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send one request and read the whole response: ``(status, headers, body)``.

        A connection that failed, was cancelled mid-exchange or will not be kept alive is
        closed; httpcore's exceptions propagate for the transport to map.
        """
        if self._closed:
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        connection = await self._checkout(target)
        request = httpcore.Request(
            method,
            target.url,
            headers=_with_framing(target.host, method, headers, content),
            content=content,
            extensions=dict(extensions),
        )
        self._busy += 1
        reusable = False
        try:
            response = await connection.handle_async_request(request)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
            reusable = True
        except Exception as exc:
            raise _as_httpx(exc) from exc
        finally:
            self._busy -= 1
            await self._checkin(target.key, connection, reusable)
        return response.status, response.headers, body

    async def _checkout(self, target: Target) -> httpcore.AsyncHTTPConnection:
        """The newest usable idle connection to ``target``'s origin, or a new (unconnected) one."""
        stack = self._idle.get(target.key)
        while stack:
            connection = stack.pop()
            self._idle_count -= 1
            if connection.is_idle() and not connection.has_expired():
                return connection
            await _close(connection)
        if self._busy + self._idle_count >= self._max_connections:
            await self._close_oldest_idle()
        return httpcore.AsyncHTTPConnection(
            origin=target.origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._network_backend(),
        )

    def _network_backend(self) -> httpcore.AsyncNetworkBackend | None:
        """Plain asyncio streams on asyncio (``_streams.py``); httpcore's choice elsewhere."""
        if running_asyncio() is None:
            return None
        if self._asyncio_backend is None:
            from ._streams import AsyncioBackend

            self._asyncio_backend = AsyncioBackend()
        return self._asyncio_backend

    async def _checkin(
        self,
        key: tuple[bytes, bytes, int],
        connection: httpcore.AsyncHTTPConnection,
        reusable: bool,
    ) -> None:
        keep = (
            reusable
            and not self._closed
            and connection.is_idle()
            and self._idle_count < self._max_keepalive
        )
        if not keep:
            await _close(connection)
            return
        self._idle.setdefault(key, []).append(connection)
        self._idle_count += 1

    async def _close_oldest_idle(self) -> None:
        """Make room for a connection to another origin (only with several origins in use)."""
        for stack in self._idle.values():
            if stack:
                self._idle_count -= 1
                await _close(stack.pop(0))
                return

    async def aclose(self) -> None:
        self._closed = True
        stacks, self._idle, self._idle_count = list(self._idle.values()), {}, 0
        for stack in stacks:
            for connection in stack:
                await _close(connection)


def _with_framing(
    host: bytes, method: bytes, headers: list[tuple[bytes, bytes]], content: bytes
) -> list[tuple[bytes, bytes]]:
    """``Host`` first and a ``Content-Length`` (what httpx's ``Request`` adds), unless given."""
    framed = [(b"Host", host), *headers]
    if (content or method in _BODY_METHODS) and not any(
        name.lower() == b"content-length" for name, _ in headers
    ):
        framed.append((b"Content-Length", b"%d" % len(content)))
    return framed


_BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})


async def _close(connection: httpcore.AsyncHTTPConnection) -> None:
    """Close without letting a cancellation leave the socket open."""
    with anyio.CancelScope(shield=True):
        await connection.aclose()


#: httpcore's (and h11's) failures as the httpx ones the transport maps (most specific first).
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (h11.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (h11.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _as_httpx(exc: Exception) -> Exception:
    """The httpx exception for an httpcore/h11 one (as httpx's own transport raises), so one
    mapping in the transport covers both paths; anything else unchanged."""
    for source, target in _HTTPX_ERRORS:
        if isinstance(exc, source):
            return target(str(exc))
    return exc

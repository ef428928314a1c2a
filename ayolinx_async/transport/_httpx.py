"""The default transport, built on ``httpx``/``httpcore``.

When the transport creates its own client (no client, transport or environment proxy given) it
sends through its own LIFO pool of httpcore connections (``_pool.py``): the ``AsyncClient``
layer (URL and header merging, cookies, auth, redirects) costs more than the whole SDK pipeline
and none of it applies to signed SNAP calls, and httpcore's pool re-scans every queued request
against every connection whenever one is released (issue 15). A client or ``transport=`` you
pass keeps its full httpx behaviour (your auth, hooks, headers, proxies, mocks).

In-flight requests are gated at the pool size, so nothing queues inside a pool: 10,000 calls
queued inside httpcore's pool never finish, while the same calls waiting on a semaphore in
front of it run at full speed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from .._errors import (
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    PoolTimeoutError,
    ReadTimeoutError,
    TransportError,
    WriteTimeoutError,
)
from .._frozen import maker
from .._gate import Gate
from ._base import HttpRequest, HttpResponse, LazyHeaders, Timeout
from ._deadlines import Deadlines

if TYPE_CHECKING:
    # Imported when the first transport is built: httpcore (with certifi) costs a third of
    # ``import httpx``, which itself leaves httpcore to first use (issue 15).
    from ._pool import ConnectionPool, Target

__all__ = ["HttpxTransport"]

#: ``HttpResponse(...)``, built with plain slot stores (every answer makes one).
_new_response = maker(HttpResponse)

_MAX_CACHED_URLS = 256

#: Default pool: 20 connections, all kept alive, and at most 20 requests inside httpx. Chosen
#: by measurement (benchmarks/README.md, issue 15): httpcore's per-request cost grows with the
#: number of pooled connections, and 20 beat 50 and 100 at c = 16/64/256 over loopback. 20
#: connections still carry 200 calls/s at 100 ms a call; pass ``limits=`` for more.
DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=20)


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    return httpx.Timeout(timeout.total, connect=timeout.connect, pool=timeout.connect)


def _pool_size(client: httpx.AsyncClient) -> int | None:
    """The connection limit of a client's default pool, if it has one we can see."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    size = getattr(pool, "_max_connections", None)
    return size if isinstance(size, int) and size > 0 else None


def _environment_proxies() -> bool:
    """Whether HTTP(S)_PROXY/ALL_PROXY (or the OS settings) name a proxy."""
    import urllib.request  # 14 ms: only when a transport is built

    return bool(urllib.request.getproxies())


def _extensions(timeout: Timeout) -> dict[str, object]:
    """httpcore's per-request timeouts (what ``AsyncClient`` would have put there)."""
    return {
        "timeout": {
            "connect": timeout.connect,
            "read": timeout.total,
            "write": timeout.total,
            "pool": timeout.connect,
        }
    }


class HttpxTransport:
    """Sends requests through httpx.

    Pass ``client=`` to reuse your own ``httpx.AsyncClient`` (it is never closed by us), or let
    the transport create its connections (closed by :meth:`aclose`). ``transport=`` plugs an
    ``httpx.AsyncBaseTransport`` (``MockTransport``, ``ASGITransport``) under the transport's
    own client. TLS verification stays on unless the client you pass says otherwise.

    At most ``limits.max_connections`` requests (default :data:`DEFAULT_LIMITS`) are in flight
    at once; the others wait their turn in order. A client you pass is gated at its own pool
    size when that can be read, and not gated otherwise.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        self._timeout = timeout or Timeout()
        self._owns_client = client is None
        self._closed = False
        self._limits = limits or DEFAULT_LIMITS
        # Requests go to one of three places: our own httpcore pool (the default), a transport
        # you passed (straight to it, skipping AsyncClient), or an AsyncClient (yours, or ours
        # when HTTP(S)_PROXY/ALL_PROXY is set: httpx mounts proxies only when it builds the
        # transport itself, and production egress often goes through a whitelisted proxy).
        self._native: ConnectionPool | None = None
        self._pool: httpx.AsyncBaseTransport | None = None
        self._client: httpx.AsyncClient | None = client
        if client is None:
            if transport is not None:
                self._pool = transport
            elif _environment_proxies():
                self._client = self._new_client()
            else:
                from ._pool import ConnectionPool

                # httpx's ``None`` means "no limit": kept as such, not as zero.
                most = self._limits.max_connections or sys.maxsize
                keep = self._limits.max_keepalive_connections
                self._native = ConnectionPool(
                    max_connections=most,
                    max_keepalive=most if keep is None else keep,
                    keepalive_expiry=self._limits.keepalive_expiry,
                    ssl_context=httpx.create_ssl_context(),
                )
        size = self._limits.max_connections if client is None else _pool_size(client)
        self._max_in_flight = size
        # The SDK's FIFO gate: a free slot is a counter (an anyio semaphore costs ~1.5 µs
        # a request more on asyncio); trio waits on anyio's semaphore inside it.
        self._gate = Gate(size) if size else None
        self._deadlines = Deadlines()
        self._urls: dict[str, httpx.URL] = {}
        self._targets: dict[str, Target] = {}
        self._ext_for = self._timeout
        self._ext = _extensions(self._timeout)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=_httpx_timeout(self._timeout),
            limits=self._limits,
            transport=self._pool,
            verify=True,
            follow_redirects=False,
        )

    @property
    def client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` behind this transport: yours, or one with the same settings.

        With the built-in pool requests do not go through it; it is made on first access for
        code that wants httpx's API, and closed with the transport.
        """
        if self._client is None:
            self._client = self._new_client()
        return self._client

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._closed

    @property
    def timeout(self) -> Timeout:
        """The default timeouts of a request that names none."""
        return self._timeout

    @property
    def max_in_flight(self) -> int | None:
        """How many requests may be in flight at once (``None``: not gated)."""
        return self._max_in_flight

    @property
    def connection_pool(self) -> ConnectionPool | None:
        """The built-in pool (``None`` when requests go through httpx's): for introspection."""
        return self._native

    def _url(self, url: str) -> httpx.URL:
        """Parsed once per distinct URL (a client calls a dozen endpoints, not thousands)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def _target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            from ._pool import parse_target

            try:
                target = parse_target(url)
            except ValueError as exc:
                raise ConfigurationError(f"bad URL: {exc}") from None
            if len(self._targets) >= _MAX_CACHED_URLS:
                self._targets.clear()
            self._targets[url] = target
        return target

    async def _exchange(self, request: HttpRequest, timeout: Timeout) -> _Answer:
        if self._closed and self._owns_client:
            # A client you passed stays usable by its owner (and through us) after aclose.
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        if timeout is not self._ext_for:
            self._ext_for, self._ext = timeout, _extensions(timeout)
        native = self._native
        if native is not None:
            status, raw_headers, body = await native.exchange(
                request.method.encode("ascii"),
                self._target(request.url),
                _header_pairs(request.headers),
                request.content,
                self._ext,
            )
            return _decoded(status, raw_headers, body)
        if self._pool is None:
            response = await self.client.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.content,
                timeout=_httpx_timeout(timeout),
                follow_redirects=False,
            )
        else:
            response = await self._pool.handle_async_request(
                httpx.Request(
                    request.method,
                    self._url(request.url),
                    headers=request.headers,
                    content=request.content,
                    extensions=self._ext,
                )
            )
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response.status_code, _lowered(response.headers), response.content

    async def send(self, request: HttpRequest) -> HttpResponse:
        timeout = request.timeout or self._timeout
        gate = self._gate
        admitted = False  # past the gate: from here on the request may have left
        # httpx has no whole-exchange deadline; the total one is enforced here. It starts
        # before the gate, the pool wait and connect, so it allows ``connect`` extra: a request
        # that never left then ends in httpx's own pool/connect timeout (safe to resend), not
        # in an ambiguous read timeout.
        seconds = timeout.total + timeout.connect
        try:
            with self._deadlines.within(seconds):
                if gate is not None and not gate.take() and not await gate.acquire(seconds):
                    raise TimeoutError
                admitted = True
                try:
                    status, headers, content = await self._exchange(request, timeout)
                finally:
                    if gate is not None:
                        gate.release()
        except TimeoutError:
            if not admitted:
                # Still waiting for a pool slot: the request never left.
                raise PoolTimeoutError(f"no free connection within {seconds}s") from None
            raise ReadTimeoutError(f"no complete response within {seconds}s") from None
        except httpx.ConnectTimeout:
            raise ConnectTimeoutError(f"connect timed out after {timeout.connect}s") from None
        except httpx.PoolTimeout:
            raise PoolTimeoutError("no free connection in the pool") from None
        except httpx.WriteTimeout:
            raise WriteTimeoutError("timed out while sending the request") from None
        except httpx.ReadTimeout:
            raise ReadTimeoutError("timed out waiting for the response") from None
        except httpx.ConnectError as exc:
            raise ConnectError(f"cannot connect: {exc}") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ConfigurationError(f"bad URL: {exc}") from None
        except httpx.LocalProtocolError as exc:
            # h11 refused to send what was built (a malformed header): nothing left.
            raise ConfigurationError(f"request refused before sending: {exc}") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise ConnectionDroppedError(f"connection dropped: {exc}") from None
        except httpx.TransportError as exc:
            raise TransportError(f"transport failure: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPStatusError as exc:
            # A user's client with a raise_for_status hook: the answer still decides the outcome.
            response = exc.response
            status, headers, content = (
                response.status_code,
                _lowered(response.headers),
                response.content,
            )
        except httpx.HTTPError as exc:
            # DecodingError (corrupt Content-Encoding), TooManyRedirects …: an answer arrived
            # but is unusable, so the server may have acted.
            raise ConnectionDroppedError(f"unusable response: {type(exc).__name__}") from None
        return _new_response(status_code=status, headers=headers, content=content)

    async def aclose(self) -> None:
        self._closed = True
        if self._native is not None:
            await self._native.aclose()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        elif self._owns_client and self._pool is not None:
            await self._pool.aclose()


_Answer = tuple[int, Mapping[str, str], bytes]


def _lowered(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _header_pairs(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """Request headers for httpcore; a non-ASCII value is refused before anything is sent."""
    try:
        return [(name.encode("ascii"), value.encode("ascii")) for name, value in headers.items()]
    except UnicodeEncodeError:
        bad = [name for name, value in headers.items() if not (name + value).isascii()]
        raise ConfigurationError(f"header {bad[0]!r} is not ASCII") from None


def _decoded(status: int, raw: list[tuple[bytes, bytes]], body: bytes) -> _Answer:
    """httpcore's answer: text headers decoded on first use (:func:`_text_headers`), and the
    body decoded from any ``Content-Encoding`` the server applied anyway."""
    for name, value in raw:
        if (
            len(name) == 16
            and name.lower() == b"content-encoding"
            and value.strip().lower() not in (b"", b"identity")
        ):
            response = httpx.Response(status, headers=raw, stream=httpx.ByteStream(body))
            response.read()  # httpx's decoders; a corrupt body raises httpx.DecodingError
            body = response.content
            break
    return status, LazyHeaders(raw, _text_headers), body


def _text_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """httpcore's header pairs as text, repeated names joined with ``, `` (as httpx does)."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("utf-8", "replace") if not value.isascii() else value.decode("ascii")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers

"""The default transport, built on ``httpx``.

When the transport creates its own client it sends straight to httpx's connection pool: the
``AsyncClient`` layer (URL and header merging, cookie extraction, auth and redirect handling)
costs more than the whole SDK pipeline and none of it applies to signed SNAP calls. A client
you pass in keeps its full behaviour (your auth, hooks, headers, proxies).

In-flight requests are gated at the pool size: httpcore re-scans every queued request against
every connection whenever one is released, so 10,000 calls queued inside the pool never finish
(issue 15), while the same calls waiting on a semaphore in front of it run at full speed.
"""

from __future__ import annotations

import asyncio
import urllib.request

import anyio
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
from ._base import HttpRequest, HttpResponse, Timeout

__all__ = ["HttpxTransport"]

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


def _on_asyncio() -> bool:
    """True inside an asyncio task (trio has no running asyncio loop)."""
    try:
        return asyncio.current_task() is not None
    except RuntimeError:
        return False


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
    the transport create one (closed by :meth:`aclose`). ``transport=`` plugs an
    ``httpx.AsyncBaseTransport`` (``MockTransport``, ``ASGITransport``) under the transport's
    own client. TLS verification stays on unless the client you pass says otherwise.

    At most ``limits.max_connections`` requests (default :data:`DEFAULT_LIMITS`) are inside
    httpx at once; the others wait their turn in order. A client you pass is gated at its own
    pool size when that can be read, and not gated otherwise.
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
        # Set when requests may go straight to the pool: our own client, and no proxy from the
        # environment (those are mounted by AsyncClient; keep that path for them).
        self._pool: httpx.AsyncBaseTransport | None = None
        if client is None:
            limits = limits or DEFAULT_LIMITS
            if transport is None and urllib.request.getproxies():
                # httpx mounts HTTP(S)_PROXY/ALL_PROXY only when it builds the transport itself
                # (production egress often goes through a whitelisted proxy).
                client = httpx.AsyncClient(
                    timeout=_httpx_timeout(self._timeout),
                    limits=limits,
                    verify=True,
                    follow_redirects=False,
                )
            else:
                pool = transport or httpx.AsyncHTTPTransport(limits=limits, verify=True)
                client = httpx.AsyncClient(
                    timeout=_httpx_timeout(self._timeout),
                    transport=pool,
                    follow_redirects=False,
                )
                self._pool = pool
        self._client = client
        size = limits.max_connections if limits is not None and self._owns_client else None
        if size is None and not self._owns_client:
            size = _pool_size(client)
        # fast_acquire: a free slot costs no extra loop iteration (httpx yields soon anyway).
        self._max_in_flight = size
        self._gate = anyio.Semaphore(size, fast_acquire=True) if size else None
        self._urls: dict[str, httpx.URL] = {}
        self._ext_for = self._timeout
        self._ext = _extensions(self._timeout)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    @property
    def max_in_flight(self) -> int | None:
        """How many requests may be inside httpx at once (``None``: not gated)."""
        return self._max_in_flight

    def _url(self, url: str) -> httpx.URL:
        """Parsed once per distinct URL (a client calls a dozen endpoints, not thousands)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    async def _gated(
        self, request: HttpRequest, timeout: Timeout, admitted: list[bool]
    ) -> httpx.Response:
        """The exchange behind the gate; ``admitted`` records that the request got past it."""
        gate = self._gate
        if gate is None:
            admitted.append(True)
            return await self._exchange(request, timeout)
        await gate.acquire()
        admitted.append(True)
        try:
            return await self._exchange(request, timeout)
        finally:
            gate.release()

    async def _exchange(self, request: HttpRequest, timeout: Timeout) -> httpx.Response:
        if self._pool is None:
            return await self._client.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.content,
                timeout=_httpx_timeout(timeout),
                follow_redirects=False,
            )
        if self._closed:
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        if timeout is not self._ext_for:
            self._ext_for, self._ext = timeout, _extensions(timeout)
        outgoing = httpx.Request(
            request.method,
            self._url(request.url),
            headers=request.headers,
            content=request.content,
            extensions=self._ext,
        )
        response = await self._pool.handle_async_request(outgoing)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def send(self, request: HttpRequest) -> HttpResponse:
        timeout = request.timeout or self._timeout
        admitted: list[bool] = []
        try:
            # httpx has no whole-exchange deadline; the total one is enforced here. It starts
            # before the pool wait and connect, so it allows ``connect`` extra: a request that
            # never left then ends in httpx's own pool/connect timeout (safe to resend), not in
            # an ambiguous read timeout. asyncio.timeout costs a third of anyio.fail_after.
            deadline = timeout.total + timeout.connect
            if _on_asyncio():
                async with asyncio.timeout(deadline):
                    response = await self._gated(request, timeout, admitted)
            else:
                with anyio.fail_after(deadline):
                    response = await self._gated(request, timeout, admitted)
        except TimeoutError:
            if not admitted:
                # Still waiting for a pool slot: the request never left.
                raise PoolTimeoutError(f"no free connection within {deadline}s") from None
            raise ReadTimeoutError(f"no complete response within {deadline}s") from None
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
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise ConnectionDroppedError(f"connection dropped: {exc}") from None
        except httpx.TransportError as exc:
            raise TransportError(f"transport failure: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPStatusError as exc:
            # A user's client with a raise_for_status hook: the answer still decides the outcome.
            response = exc.response
        except httpx.HTTPError as exc:
            # DecodingError (corrupt Content-Encoding), TooManyRedirects …: an answer arrived
            # but is unusable, so the server may have acted.
            raise ConnectionDroppedError(f"unusable response: {type(exc).__name__}") from None
        return HttpResponse(
            status_code=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=response.content,
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_client:
            await self._client.aclose()

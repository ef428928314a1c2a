"""An asyncio-only transport built on ``aiohttp.ClientSession`` (the ``[aiohttp]`` extra).

It maps aiohttp's failures onto the same :class:`~ayolinx_async._errors.TransportError`
subclasses as the httpx transport, so the client's retry and "outcome unknown" rules do not
depend on which HTTP library carries the bytes.
"""

from __future__ import annotations

import asyncio

try:
    import aiohttp
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    from .._errors import ConfigurationError

    raise ConfigurationError(
        'AiohttpTransport needs aiohttp: pip install "ayolinx-async[aiohttp]"'
    ) from exc

from multidict import CIMultiDictProxy

from .._errors import (
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    TransportError,
)
from .._frozen import maker
from ._base import HttpRequest, HttpResponse, LazyHeaders, Timeout
from ._deadlines import Deadlines

__all__ = ["AiohttpTransport"]

#: ``HttpResponse(...)``, built with plain slot stores (every answer makes one).
_new_response = maker(HttpResponse)


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """``connect`` bounds getting a connection (pool wait included). The total deadline is
    the transport's own (:class:`~ayolinx_async.transport._deadlines.Deadlines`): aiohttp's
    costs a loop timer per request, ~8% of a call's CPU (issue 15)."""
    return aiohttp.ClientTimeout(total=None, connect=timeout.connect, sock_connect=timeout.connect)


def _headers(raw: CIMultiDictProxy[str]) -> dict[str, str]:
    """Lower-case names; repeated headers joined with ``", "`` (as httpx does)."""
    headers: dict[str, str] = {}
    for name, value in raw.items():
        key = name.lower()
        seen = headers.get(key)
        headers[key] = value if seen is None else f"{seen}, {value}"
    return headers


class AiohttpTransport:
    """Sends requests through aiohttp (asyncio only).

    Pass ``session=`` to reuse your own ``aiohttp.ClientSession`` (it is never closed by us), or
    let the transport create one on first use (closed by :meth:`aclose`). The session is created
    lazily because aiohttp needs a running event loop, while clients are often built outside one.
    TLS verification stays on unless the session you pass says otherwise.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: Timeout | None = None,
        limit: int = 100,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError("session must be an aiohttp.ClientSession")
        if limit < 1:
            raise ConfigurationError("limit must be at least 1")
        self._timeout = timeout or Timeout()
        self._limit = limit
        self._session = session
        self._owns_session = session is None
        self._closed = False
        # One-entry memo: the client passes the same Timeout object on nearly every call.
        self._last_timeout = self._timeout
        self._last_client_timeout = _client_timeout(self._timeout)
        self._deadlines = Deadlines()

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use (``None`` until the first request when the transport owns it)."""
        return self._session

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigurationError(
                "AiohttpTransport runs on asyncio only; use HttpxTransport"
            ) from None
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._limit),
            timeout=self._last_client_timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
            trust_env=False,
        )
        self._session = session
        return session

    async def send(self, request: HttpRequest) -> HttpResponse:
        session = self._session
        if session is None or (self._owns_session and self._closed):
            session = self._open_session()
        timeout = request.timeout or self._timeout
        if timeout is self._last_timeout:
            client_timeout = self._last_client_timeout
        else:
            client_timeout = _client_timeout(timeout)
            self._last_timeout, self._last_client_timeout = timeout, client_timeout
        try:
            with self._deadlines.within(timeout.total):
                async with session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.content,
                    timeout=client_timeout,
                    allow_redirects=False,
                    # An error status is an answer the client interprets, even if the
                    # caller's session was built with raise_for_status=True.
                    raise_for_status=False,
                ) as response:
                    content = await response.read()
                    status, headers = response.status, response.headers
            return _new_response(
                status_code=status, headers=LazyHeaders(headers, _headers), content=content
            )
        # Order matters: aiohttp's timeout errors subclass TimeoutError, and its connector
        # errors subclass ClientOSError.
        except aiohttp.ConnectionTimeoutError:
            raise ConnectTimeoutError(f"connect timed out after {timeout.connect}s") from None
        except aiohttp.SocketTimeoutError:
            raise ReadTimeoutError("timed out waiting for the response") from None
        except TimeoutError:
            # The total deadline, which covers reading the body too.
            raise ReadTimeoutError(f"no complete response within {timeout.total}s") from None
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(f"cannot connect: {exc}") from None
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            raise ConfigurationError(f"bad URL: {exc}") from None
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
            aiohttp.ClientResponseError,
        ) as exc:
            raise ConnectionDroppedError(
                f"connection dropped: {type(exc).__name__}: {exc}"
            ) from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"transport failure: {type(exc).__name__}: {exc}") from None

    async def aclose(self) -> None:
        """Close the session if this transport created it; a caller's session is left open."""
        self._closed = True
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

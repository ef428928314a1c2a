"""The default transport, built on ``httpx.AsyncClient``."""

from __future__ import annotations

import anyio
import httpx

from ..errors import (
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    PoolTimeoutError,
    ReadTimeoutError,
    TransportError,
    WriteTimeoutError,
)
from .base import HttpRequest, HttpResponse, Timeout

__all__ = ["HttpxTransport"]


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    return httpx.Timeout(timeout.total, connect=timeout.connect, pool=timeout.connect)


class HttpxTransport:
    """Sends requests through httpx.

    Pass ``client=`` to reuse your own ``httpx.AsyncClient`` (it is never closed by us), or let
    the transport create one (closed by :meth:`aclose`). TLS verification stays on unless the
    client you pass says otherwise.
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
        if client is None:
            client = httpx.AsyncClient(
                timeout=_httpx_timeout(self._timeout),
                transport=transport,
                limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
                verify=True,
                follow_redirects=False,
            )
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    async def send(self, request: HttpRequest) -> HttpResponse:
        timeout = request.timeout or self._timeout
        try:
            # httpx has no whole-exchange deadline; the total one is enforced here.
            with anyio.fail_after(timeout.total):
                response = await self._client.request(
                    request.method,
                    request.url,
                    headers=dict(request.headers),
                    content=request.content,
                    timeout=_httpx_timeout(timeout),
                )
        except TimeoutError:
            raise ReadTimeoutError(f"no complete response within {timeout.total}s") from None
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
        return HttpResponse(
            status_code=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=response.content,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

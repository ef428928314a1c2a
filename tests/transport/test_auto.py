"""``transport="auto"``: aiohttp on asyncio when it is installed, httpx on trio or without it,
chosen at the first request, over real loopback sockets."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from ayolinx_async import AyolinxClient, Credentials
from ayolinx_async.simulator import MerchantAccount, Simulator
from ayolinx_async.transport import AutoTransport, HttpRequest, HttpxTransport
from ayolinx_async.transport.aiohttp import AiohttpTransport
from tests._servers import serve_uvicorn

from ._rawserver import raw_server

pytestmark = pytest.mark.anyio

PATH = "/v1.0/qr/qr-mpm-query"


def _request(url: str) -> HttpRequest:
    return HttpRequest(
        method="POST", url=url, headers={"Content-Type": "application/json"}, content=b"{}"
    )


async def test_auto_picks_by_event_loop(anyio_backend_name: str) -> None:
    transport = AutoTransport()
    assert transport.chosen is None  # nothing is decided outside the event loop
    async with raw_server() as server:
        response = await transport.send(_request(server.url + PATH))
        assert response.status_code == 200
        chosen = transport.chosen
        expected = AiohttpTransport if anyio_backend_name == "asyncio" else HttpxTransport
        assert isinstance(chosen, expected)
        await transport.send(_request(server.url + PATH))
        assert transport.chosen is chosen  # chosen once
        await transport.aclose()
        with pytest.raises(RuntimeError):
            await transport.send(_request(server.url + PATH))
    assert len(server.requests) == 2


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_auto_falls_back_to_httpx_without_aiohttp(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "aiohttp" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    transport = AutoTransport()
    async with raw_server() as server:
        await transport.send(_request(server.url + PATH))
    assert type(transport.chosen) is HttpxTransport
    await transport.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_client_with_transport_auto_pays_through_the_simulator(anyio_backend: str) -> None:
    account = MerchantAccount.generate()
    async with Simulator(account) as sim, serve_uvicorn(sim) as url:
        credentials: Credentials = sim.credentials()
        client = AyolinxClient(credentials, base_url=url, transport="auto")
        async with client:
            created = await client.qris.generate(partner_reference_no="AUTO-1", amount="15000")
            assert created.qr_content
            transport = client.transport
            assert isinstance(transport, AutoTransport)
            assert isinstance(transport.chosen, AiohttpTransport)
            session = transport.chosen.session
            assert session is not None
            assert not session.closed
        assert session.closed  # the client made the transport, so it closed it

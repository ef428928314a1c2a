"""End-to-end wiring: an example merchant app on a real loopback server, and the embedded
simulator delivering to it through a plain ``httpx.AsyncClient`` (real TCP, no transport
override) whose every request and answer is recorded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import attrs
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.simulator import MerchantAccount, Simulator
from ayolinx_async.simulator._accounts import public_pem
from tests._servers import load_example, serve_aiohttp, serve_uvicorn
from tests.callbacks._helpers import Recorder
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

__all__ = [
    "CALLBACK_PATH",
    "TIME_SCALE",
    "Shop",
    "Wire",
    "WireExchange",
    "running_shop",
    "running_simulator",
]

#: The merchant's own notify path (the path the simulator signs), not the documented default.
CALLBACK_PATH = "/shop/webhooks/ayolinx"
#: Shrinks the 1 min / 5 min / 10 min / 1 h retry schedule to about 0.5 s in total.
TIME_SCALE = 0.0001


@attrs.define
class Shop:
    """A running example app: where it listens, its order book over HTTP, its listener."""

    kind: str
    base_url: str
    browser: httpx.AsyncClient
    events: Recorder

    @property
    def notify_url(self) -> str:
        return self.base_url + CALLBACK_PATH

    async def order(self, order: str) -> httpx.Response:
        """``GET /orders/{order}``: the example's own record of the callbacks it applied."""
        return await self.browser.get(f"/orders/{order}")

    async def open_order(self, order: str, amount: object) -> None:
        """``PUT /orders/{order}``: the shop opens the order with the amount it must be paid."""
        response = await self.browser.put(f"/orders/{order}", json={"amount": str(amount)})
        assert response.status_code == 201, response.text


@asynccontextmanager
async def running_shop(kind: str, trusted: rsa.RSAPublicKey) -> AsyncIterator[Shop]:
    """``examples/<kind>_app.py`` with the test merchant's credentials, trusting ``trusted`` as
    Ayolinx's key, served on a free 127.0.0.1 port (uvicorn or aiohttp's runner)."""
    events = Recorder()
    app = load_example(f"{kind}_app").create_app(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_key=public_pem(trusted),
        callback_path=CALLBACK_PATH,
        on_event=events,
    )
    serve = serve_uvicorn if kind == "fastapi" else serve_aiohttp
    async with (
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10, trust_env=False) as browser,
    ):
        yield Shop(kind=kind, base_url=base_url, browser=browser, events=events)


@attrs.frozen(kw_only=True, slots=True)
class WireExchange:
    """One request the simulator made over the network and the merchant's answer."""

    method: str
    url: str
    path: str
    status_code: int
    response_code: str | None


@attrs.define
class Wire:
    """httpx event hooks on the simulator's delivery client: every exchange, in order. Only the
    ``responseCode`` of each answer is kept (the token endpoint's answer holds a secret)."""

    exchanges: list[WireExchange] = attrs.Factory(list)

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        try:
            code = json.loads(response.content).get("responseCode")
        except (ValueError, AttributeError):
            code = None
        request = response.request
        self.exchanges.append(
            WireExchange(
                method=request.method,
                url=str(request.url),
                path=request.url.path,
                status_code=response.status_code,
                response_code=code,
            )
        )

    def paths(self) -> list[str]:
        return [exchange.path for exchange in self.exchanges]


@asynccontextmanager
async def running_simulator(
    merchant_key: rsa.RSAPrivateKey,
    ayolinx_key: rsa.RSAPrivateKey,
    *,
    callback_url: str | None = None,
    va_snap_base_url: str | None = None,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    **options: Any,
) -> AsyncIterator[tuple[Simulator, Wire]]:
    """A running in-process simulator holding the apps' merchant account (same client key,
    secret and RSA key), signing callbacks with ``ayolinx_key`` and delivering them over real
    TCP. ``callback_url`` / ``va_snap_base_url`` are the back-office settings."""
    account = MerchantAccount.from_keys(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        private_key=merchant_key,
        callback_url=callback_url,
        va_snap_base_url=va_snap_base_url,
    )
    wire = Wire()
    # A plain client: the default network transport. trust_env=False keeps a developer's
    # HTTP(S)_PROXY away from 127.0.0.1.
    async with httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=10,
        event_hooks={"response": [wire.on_response]},
    ) as http:
        sim = Simulator(
            account,
            ayolinx_key=ayolinx_key,
            http_client=http,
            time_scale=TIME_SCALE,
            sleep=sleep,
            **options,
        )
        async with sim:
            yield sim, wire

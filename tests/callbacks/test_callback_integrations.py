"""Framework adapters in process (httpx ASGI transport): raw body, prefixes, limits, extras."""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from ayolinx_async._errors import ConfigurationError
from ayolinx_async.callbacks import NotifyRoute, TokenRoute, VaPaymentRoute
from ayolinx_async.integrations import CallbackASGIApp
from ayolinx_async.integrations.fastapi import callback_router
from ayolinx_async.integrations.starlette import callback_app

from ._helpers import (
    NOTIFY_PATH,
    FakeClock,
    Recorder,
    make_handler,
    notify_headers,
    qris_body,
    token_body,
    token_headers,
    va_payment_body,
    va_payment_headers,
)

pytestmark = pytest.mark.anyio

ACK = {"responseCode": "2005600", "responseMessage": "Successful"}


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://merchant")


async def _full_flow(
    client: httpx.AsyncClient, key: rsa.RSAPrivateKey, clock: FakeClock, prefix: str
) -> None:
    """Notify, token and VA payment through ``client``; paths are signed as Ayolinx calls them."""
    body = qris_body()
    path = prefix + NOTIFY_PATH
    response = await client.post(
        path, content=body, headers=notify_headers(key, body, clock.stamp(), path=path)
    )
    assert response.status_code == 200
    assert response.json() == ACK
    token = await client.post(
        prefix + "/v1.0/access-token/b2b",
        content=token_body(),
        headers=token_headers(key, clock.stamp()),
    )
    assert token.status_code == 200
    access = token.json()["accessToken"]
    va_path = prefix + "/v1.0/transfer-va/payment"
    body = va_payment_body()
    paid = await client.post(
        va_path, content=body, headers=va_payment_headers(access, body, clock.stamp(), path=va_path)
    )
    assert paid.status_code == 200
    assert paid.json()["responseCode"] == "2002500"


async def test_plain_asgi_app_mounted_under_a_prefix(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock, recorder = FakeClock(), Recorder()
    app = Starlette(
        routes=[
            Mount(
                "/hooks", app=CallbackASGIApp(make_handler(ayolinx_key, clock, on_event=recorder))
            )
        ]
    )
    async with _client(app) as client:
        await _full_flow(client, ayolinx_key, clock, "/hooks")
        # Signed for the path below the mount point instead of the full path: rejected.
        body = qris_body(ref="other")
        wrong = await client.post(
            "/hooks" + NOTIFY_PATH,
            content=body,
            headers=notify_headers(ayolinx_key, body, clock.stamp()),
        )
        assert wrong.status_code == 401
        missing = await client.post("/hooks/nothing-here", content=b"{}")
        assert missing.status_code == 404
        assert missing.json()["responseCode"] == "4040002"
    assert len(recorder.events) == 2


async def test_plain_asgi_app_at_root(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock, recorder = FakeClock(), Recorder()
    async with _client(
        CallbackASGIApp(make_handler(ayolinx_key, clock, on_event=recorder))
    ) as client:
        await _full_flow(client, ayolinx_key, clock, "")


async def test_starlette_app(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock, recorder = FakeClock(), Recorder()
    async with _client(callback_app(make_handler(ayolinx_key, clock, on_event=recorder))) as client:
        await _full_flow(client, ayolinx_key, clock, "")
        wrong_method = await client.get(NOTIFY_PATH)
        assert wrong_method.status_code == 405
        assert wrong_method.json()["responseCode"] == "4055600"


async def test_fastapi_router_with_prefix(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock, recorder = FakeClock(), Recorder()
    app = FastAPI()
    app.include_router(
        callback_router(make_handler(ayolinx_key, clock, on_event=recorder)), prefix="/api"
    )
    async with _client(app) as client:
        await _full_flow(client, ayolinx_key, clock, "/api")
    assert "/api/ayolinx/notify" not in app.openapi()["paths"]


async def _chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 1024):
        yield b"x" * 1024


@pytest.mark.parametrize("kind", ["asgi", "starlette", "fastapi"])
async def test_streamed_oversized_body_gets_413(ayolinx_key: rsa.RSAPrivateKey, kind: str) -> None:
    clock, recorder = FakeClock(), Recorder()
    handler = make_handler(ayolinx_key, clock, on_event=recorder, max_body_size=4096)
    app: Any
    if kind == "asgi":
        app = CallbackASGIApp(handler)
    elif kind == "starlette":
        app = callback_app(handler)
    else:
        app = FastAPI()
        app.include_router(callback_router(handler))
    async with _client(app) as client:
        chunked = await client.post(NOTIFY_PATH, content=_chunks(64 * 1024))
        assert chunked.status_code == 413
        assert chunked.json()["responseCode"] == "4135600"
        declared = await client.post(NOTIFY_PATH, content=b"y" * 5000)
        assert declared.status_code == 413
    assert recorder.calls == 0


async def test_routes_can_be_restricted(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock, recorder = FakeClock(), Recorder()
    handler = make_handler(
        ayolinx_key, clock, on_event=recorder, routes=[NotifyRoute(path="/only")]
    )
    async with _client(CallbackASGIApp(handler)) as client:
        assert (await client.post("/v1.0/access-token/b2b", content=b"{}")).status_code == 404
    assert [type(r) for r in handler.routes] == [NotifyRoute]
    assert TokenRoute not in [type(r) for r in handler.routes]
    assert VaPaymentRoute not in [type(r) for r in handler.routes]


@pytest.mark.parametrize(
    ("module", "hidden", "extra"),
    [
        ("ayolinx_async.integrations.fastapi", "fastapi", "ayolinx-async[fastapi]"),
        (
            "ayolinx_async.integrations.starlette",
            "starlette.applications",
            "ayolinx-async[starlette]",
        ),
        ("ayolinx_async.integrations.aiohttp", "aiohttp", "ayolinx-async[aiohttp]"),
    ],
)
def test_missing_framework_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, hidden: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # makes `import hidden` raise ImportError
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ConfigurationError, match=extra.replace("[", r"\[").replace("]", r"\]")):
        importlib.import_module(module)
    monkeypatch.delitem(sys.modules, module, raising=False)


def test_core_callbacks_import_no_framework() -> None:
    code = (
        "import sys, ayolinx_async.callbacks, ayolinx_async.integrations;"
        "bad = [m for m in ('fastapi', 'starlette', 'aiohttp') if m in sys.modules];"
        "assert not bad, bad"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)

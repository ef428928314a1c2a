"""The example merchant apps on real servers (uvicorn, aiohttp's runner) on 127.0.0.1, with real
signed callbacks POSTed over loopback: every callback type, the attack matrix, a failing
listener and concurrent duplicates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.callbacks import (
    CallbackEvent,
    EwalletNotification,
    PaymentLinkNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
)
from tests._servers import load_example, serve_aiohttp, serve_uvicorn

from ._attacks import NOTIFY_ATTACKS
from ._helpers import (
    CLIENT_KEY,
    CLIENT_SECRET,
    TOKEN_PATH,
    VA_PATH,
    FakeClock,
    Recorder,
    ewallet_body,
    notify_headers,
    payment_link_body,
    qris_body,
    retail_body,
    token_body,
    token_headers,
    va_notify_body,
    va_payment_body,
    va_payment_headers,
)

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

ACK = b'{"responseCode":"2005600","responseMessage":"Successful"}'
CALLBACK_PATH = "/shop/webhooks/ayolinx"  # the merchant's own path: the one Ayolinx signs


@attrs.define
class Live:
    client: httpx.AsyncClient
    clock: FakeClock
    key: rsa.RSAPrivateKey

    async def notify(self, body: bytes, **kw: Any) -> httpx.Response:
        headers = notify_headers(self.key, body, self.clock.stamp(), path=CALLBACK_PATH)
        return await self.client.post(CALLBACK_PATH, content=body, headers={**headers, **kw})

    async def token(self) -> str:
        response = await self.client.post(
            TOKEN_PATH, content=token_body(), headers=token_headers(self.key, self.clock.stamp())
        )
        assert response.status_code == 200, response.text
        token = response.json()["accessToken"]
        assert isinstance(token, str)
        return token

    async def pay_va(self, token: str, body: bytes) -> httpx.Response:
        headers = va_payment_headers(token, body, self.clock.stamp())
        return await self.client.post(VA_PATH, content=body, headers=headers)


@asynccontextmanager
async def _live(
    kind: str, key: rsa.RSAPrivateKey, on_event: Callable[[CallbackEvent], Any], **options: Any
) -> AsyncIterator[Live]:
    clock = FakeClock()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    example = load_example(f"{kind}_app")
    app = example.create_app(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_key=public_pem,
        callback_path=CALLBACK_PATH,
        on_event=on_event,
        clock=clock,
        **options,
    )
    serve = serve_uvicorn if kind == "fastapi" else serve_aiohttp
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield Live(client=client, clock=clock, key=key)


KINDS = pytest.mark.parametrize("kind", ["fastapi", "aiohttp"])


@KINDS
async def test_every_callback_type_over_loopback(kind: str, ayolinx_key: rsa.RSAPrivateKey) -> None:
    recorder = Recorder()
    async with _live(kind, ayolinx_key, recorder) as live:
        for make in (qris_body, ewallet_body, retail_body, payment_link_body, va_notify_body):
            response = await live.notify(make())
            assert response.status_code == 200, (make.__name__, response.text)
            assert response.content == ACK
            assert response.headers["content-type"] == "application/json"
        token_response = await live.client.post(
            TOKEN_PATH, content=token_body(), headers=token_headers(ayolinx_key, live.clock.stamp())
        )
        issued = json.loads(token_response.content)
        assert list(issued) == [
            "responseCode",
            "responseMessage",
            "accessToken",
            "tokenType",
            "expiresIn",
        ]
        assert issued["responseCode"] == "2007300"
        assert issued["tokenType"] == "Bearer"
        body = va_payment_body()
        paid = await live.pay_va(issued["accessToken"], body)
        assert paid.status_code == 200
        answer = paid.json()
        assert answer["responseCode"] == "2002500"
        assert answer["virtualAccountData"]["virtualAccountNo"] == "   8889912345678901234567890"
        assert answer["virtualAccountData"]["paidAmount"] == {
            "value": "11500.00",
            "currency": "IDR",
        }
        # The example's own order book saw the callbacks too.
        for order in (
            "ORD-QRIS-1",
            "ORD-DANA-1",
            "ORD-RETAIL-1",
            "4DrzTTeCn9Z",
            "TRX-VA-1",
            "TRX-SNAP-1",
        ):
            state = await live.client.get(f"/orders/{order}")
            assert state.status_code == 200, order
            assert state.json()["status"] == "00"
    assert [type(e) for e in recorder.events] == [
        QrisNotification,
        EwalletNotification,
        RetailNotification,
        PaymentLinkNotification,
        VirtualAccountNotification,
        VaPaymentRequest,
    ]
    assert all(e.path == CALLBACK_PATH for e in recorder.events[:5])


@KINDS
async def test_attack_matrix_over_loopback(kind: str, ayolinx_key: rsa.RSAPrivateKey) -> None:
    recorder = Recorder()
    async with _live(kind, ayolinx_key, recorder, token_ttl=60) as live:
        for name, attack, status, code in NOTIFY_ATTACKS:
            path, headers, body = attack(ayolinx_key, live.clock, CALLBACK_PATH)
            response = await live.client.post(path, content=body, headers=headers)
            assert response.status_code == status, (name, response.text)
            if name != "unknown-path":  # not a callback route: the framework's own 404
                assert response.json()["responseCode"] == code, name
        # Replay of an accepted callback: acknowledged, not reprocessed.
        accepted = qris_body(ref="replayed")
        headers = notify_headers(ayolinx_key, accepted, live.clock.stamp(), path=CALLBACK_PATH)
        for _ in range(3):
            again = await live.client.post(CALLBACK_PATH, content=accepted, headers=headers)
            assert again.content == ACK
        assert recorder.calls == 1
        # Token endpoint: wrong client key, bad signature.
        wrong_key = await live.client.post(
            TOKEN_PATH,
            content=token_body(),
            headers=token_headers(ayolinx_key, live.clock.stamp(), client_key="CK-not-ours"),
        )
        assert wrong_key.status_code == 401
        assert wrong_key.json()["responseCode"] == "4017300"
        good = token_headers(ayolinx_key, live.clock.stamp())
        forged = await live.client.post(
            TOKEN_PATH,
            content=token_body(),
            headers={**good, "X-SIGNATURE": good["X-SIGNATURE"][::-1]},
        )
        assert forged.json()["responseCode"] == "4017300"
        # VA payment: absent, wrong and expired Bearer; bad HMAC.
        body = va_payment_body()
        token = await live.token()
        no_bearer = {
            k: v
            for k, v in va_payment_headers(token, body, live.clock.stamp()).items()
            if k != "Authorization"
        }
        cases = [
            ("absent", no_bearer, "4012501"),
            ("wrong", va_payment_headers("made-up", body, live.clock.stamp()), "4012501"),
            (
                "bad hmac",
                va_payment_headers(token, body, live.clock.stamp(), secret="nope"),
                "4012500",
            ),
        ]
        for name, headers, code in cases:
            response = await live.client.post(VA_PATH, content=body, headers=headers)
            assert response.status_code == 401, name
            assert response.json()["responseCode"] == code, name
        live.clock.advance(61)
        expired = await live.pay_va(token, body)
        assert expired.status_code == 401
        assert expired.json()["responseCode"] == "4012501"
        # Non-POST gets SNAP JSON too, never an HTML page.
        wrong_method = await live.client.get(CALLBACK_PATH)
        assert wrong_method.status_code == 405
        assert wrong_method.json()["responseCode"] == "4055600"
    assert recorder.calls == 1


@KINDS
async def test_failing_listener_then_redelivery_over_loopback(
    kind: str, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    recorder = Recorder(fail=1)
    async with _live(kind, ayolinx_key, recorder) as live:
        failed = await live.notify(qris_body())
        assert failed.status_code == 500
        assert failed.json() == {
            "responseCode": "5005601",
            "responseMessage": "Internal Server Error",
        }
        assert (await live.client.get("/orders/ORD-QRIS-1")).status_code == 404
        live.clock.advance(60)  # Ayolinx retries after a minute
        redelivered = await live.notify(qris_body())
        assert redelivered.content == ACK
        assert (await live.client.get("/orders/ORD-QRIS-1")).json()["status"] == "00"
        assert (await live.notify(qris_body())).content == ACK
    assert recorder.calls == 2
    assert len(recorder.events) == 1


@KINDS
async def test_concurrent_duplicates_over_loopback(
    kind: str, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    calls = 0

    async def slow(event: CallbackEvent) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)

    async with _live(kind, ayolinx_key, slow) as live:
        body = qris_body()
        headers = notify_headers(ayolinx_key, body, live.clock.stamp(), path=CALLBACK_PATH)
        responses = await asyncio.gather(
            *(live.client.post(CALLBACK_PATH, content=body, headers=headers) for _ in range(8))
        )
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 409}
        assert statuses.count(200) >= 1
        after = await live.client.post(CALLBACK_PATH, content=body, headers=headers)
        assert after.content == ACK
    assert calls == 1


@KINDS
async def test_oversized_body_over_loopback(kind: str, ayolinx_key: rsa.RSAPrivateKey) -> None:
    recorder = Recorder()
    async with _live(kind, ayolinx_key, recorder, max_body_size=8192) as live:
        big = b'{"pad":"' + b"x" * 20_000 + b'"}'
        response = await live.notify(big)
        assert response.status_code == 413
        assert response.json()["responseCode"] == "4135600"
    assert recorder.calls == 0

"""Callback delivery: the documented retry schedule (time-scaled), success rules, SNAP VA flow."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.signing import (
    body_digest,
    service_string_to_sign,
    token_string_to_sign,
    verify_hmac,
    verify_rsa,
)
from ayolinx_async.simulator import (
    DEFAULT_SCHEDULE,
    DeliveryKind,
    DeliveryState,
    MerchantAccount,
    Simulator,
)
from tests._fakes import FakeClock

from ._helpers import ACK, MerchantApp, callback_signature_ok, qr_body

pytestmark = pytest.mark.anyio

SCALE = 0.001


class ScaledSleep:
    """Records requested waits and moves the fake clock by the unscaled amount."""

    def __init__(self, clock: FakeClock, scale: float = SCALE) -> None:
        self.clock = clock
        self.scale = scale
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds / self.scale)
        await anyio.lowlevel.checkpoint()


@pytest.fixture
async def scaled(
    account: MerchantAccount,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    merchant_app: MerchantApp,
) -> AsyncIterator[tuple[Simulator, ScaledSleep]]:
    sleep = ScaledSleep(clock)
    http = merchant_app.client()
    sim = Simulator(
        account,
        ayolinx_key=ayolinx_key,
        clock=clock,
        sleep=sleep,
        http_client=http,
        time_scale=SCALE,
    )
    async with sim:
        yield sim, sleep
    await http.aclose()


async def _new_qr(sim: Simulator, reference: str = "ORD-1", **extra: Any) -> str:
    async with sim.client() as client:
        await client.request("/v1.0/qr/qr-mpm-generate", qr_body(reference, **extra))
    return sim.transaction(reference).reference_no


async def test_schedule_is_documented_and_stops_after_success(
    scaled: tuple[Simulator, ScaledSleep], merchant_app: MerchantApp, clock: FakeClock
) -> None:
    sim, sleep = scaled
    assert sim.retry_schedule == DEFAULT_SCHEDULE == (60.0, 300.0, 600.0, 3600.0)
    merchant_app.script = [
        (500, b'{"responseCode":"5005600"}'),  # 5xx: retry
        (200, b"OK"),  # 2xx without JSON: still a failure
        (302, b"{}"),  # JSON but not 2xx: failure
    ]
    ref = await _new_qr(sim)
    paid_at = clock()
    await sim.pay(ref)
    await sim.drain(timeout=5)
    [delivery] = sim.deliveries(ref)
    assert delivery.state is DeliveryState.DELIVERED
    assert [a.delay_before for a in delivery.attempts] == [0.0, 60.0, 300.0, 600.0]
    assert [a.ok for a in delivery.attempts] == [False, False, False, True]
    assert [a.status_code for a in delivery.attempts] == [500, 200, 302, 200]
    assert sleep.calls == pytest.approx([60 * SCALE, 300 * SCALE, 600 * SCALE])
    # Attempt times follow the (unscaled) schedule on the simulator clock.
    assert [a.at - paid_at for a in delivery.attempts] == pytest.approx([0, 60, 360, 960])
    assert len(merchant_app.received) == 4
    # Every attempt is freshly timestamped and correctly signed; the body never changes.
    assert len({r.headers["x-timestamp"] for r in merchant_app.received}) == 4
    assert all(callback_signature_ok(sim.ayolinx_public_key, r) for r in merchant_app.received)
    assert len({r.body for r in merchant_app.received}) == 1


async def test_gives_up_after_the_fourth_retry(
    scaled: tuple[Simulator, ScaledSleep], merchant_app: MerchantApp
) -> None:
    sim, sleep = scaled
    merchant_app.default = (503, b'{"responseCode":"5035600"}')
    ref = await _new_qr(sim)
    await sim.pay(ref)
    await sim.drain(timeout=5)
    [delivery] = sim.deliveries(ref)
    assert delivery.state is DeliveryState.FAILED
    assert [a.number for a in delivery.attempts] == [1, 2, 3, 4, 5]
    assert [a.delay_before for a in delivery.attempts] == [0.0, *DEFAULT_SCHEDULE]
    assert sleep.calls == pytest.approx([d * SCALE for d in DEFAULT_SCHEDULE])
    assert len(merchant_app.received) == 5
    await anyio.sleep(0.01)
    assert len(merchant_app.received) == 5  # nothing after the last try


async def test_no_retry_when_the_first_attempt_succeeds(
    scaled: tuple[Simulator, ScaledSleep], merchant_app: MerchantApp
) -> None:
    sim, sleep = scaled
    ref = await _new_qr(sim)
    await sim.pay(ref)
    await sim.drain(timeout=5)
    [delivery] = sim.deliveries(ref)
    assert [a.ok for a in delivery.attempts] == [True]
    assert delivery.attempts[0].response == json.dumps(ACK)
    assert sleep.calls == []


async def test_real_time_scaled_retries_take_milliseconds(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    app = MerchantApp()
    app.script = [(500, b"{}"), (500, b"{}")]
    scale = 0.0001  # 60 s -> 6 ms, 300 s -> 30 ms
    async with (
        app.client() as http,
        Simulator(account, ayolinx_key=ayolinx_key, http_client=http, time_scale=scale) as sim,
    ):
        ref = await _new_qr(sim)
        started = time.monotonic()
        await sim.pay(ref)
        await sim.drain(timeout=5)
        elapsed = time.monotonic() - started
    [delivery] = sim.deliveries(ref)
    assert delivery.state is DeliveryState.DELIVERED
    assert len(delivery.attempts) == 3
    assert (60 + 300) * scale <= elapsed < 1.0


async def test_unreachable_and_hanging_merchants_are_recorded(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    async def hang(scope: Any, receive: Any, send: Any) -> None:
        await anyio.sleep(10)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    for transport, expected in (
        (httpx.ASGITransport(app=hang), "no answer within 0.05s"),
        (httpx.MockTransport(refuse), "ConnectError: connection refused"),
    ):
        async with (
            httpx.AsyncClient(transport=transport) as http,
            Simulator(
                account,
                ayolinx_key=ayolinx_key,
                clock=clock,
                http_client=http,
                retry_schedule=(1.0,),
                time_scale=0.001,
                delivery_timeout=0.05,
            ) as sim,
        ):
            ref = await _new_qr(sim)
            await sim.pay(ref)
            await sim.drain(timeout=5)
        [delivery] = sim.deliveries(ref)
        assert delivery.state is DeliveryState.FAILED
        assert [a.error for a in delivery.attempts] == [expected, expected]
        assert all(a.status_code is None for a in delivery.attempts)


async def test_inline_delivery_when_not_running(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    app = MerchantApp()
    app.script = [(500, b"{}")]
    sleep = ScaledSleep(clock)
    async with app.client() as http:
        sim = Simulator(
            account,
            ayolinx_key=ayolinx_key,
            clock=clock,
            sleep=sleep,
            http_client=http,
            time_scale=SCALE,
        )
        ref = await _new_qr(sim)
        await sim.pay(ref)  # returns only once the delivery finished
    [delivery] = sim.deliveries(ref)
    assert delivery.state is DeliveryState.DELIVERED
    assert len(delivery.attempts) == 2


async def test_request_url_wins_and_signed_path_is_the_merchants(
    sim: Simulator, merchant_app: MerchantApp
) -> None:
    url = "http://merchant.test/internal/webhooks/ayolinx?shop=1"
    ref = await _new_qr(sim, urlParams=[{"type": "NOTIFICATION", "url": url}])
    await sim.pay(ref)
    await sim.drain(timeout=5)
    received = merchant_app.received[-1]
    assert received.path == "/internal/webhooks/ayolinx"
    assert callback_signature_ok(sim.ayolinx_public_key, received)
    assert sim.deliveries(ref)[0].url == url


async def test_no_callback_without_any_url(
    merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    account = MerchantAccount.from_keys(
        client_key="CK-nourl", client_secret="SK", private_key=merchant_key
    )
    async with Simulator(account, ayolinx_key=ayolinx_key, clock=clock) as sim:
        ref = await _new_qr(sim)
        await sim.pay(ref)
        await sim.drain(timeout=5)
    assert sim.deliveries() == []


async def test_every_status_change_is_notified(sim: Simulator, merchant_app: MerchantApp) -> None:
    paid = await _new_qr(sim, "P")
    await sim.pay(paid, via_paying=True)
    await sim.refund(paid)
    expired = await _new_qr(sim, "E")
    await sim.expire(expired)
    pending = await _new_qr(sim, "W")
    await sim.set_status(pending, "03")
    await sim.cancel(pending)
    await sim.drain(timeout=5)
    seen = sorted(
        (r.json["originalPartnerReferenceNo"], r.json["latestTransactionStatus"])
        for r in merchant_app.received
    )
    assert seen == [("E", "05"), ("P", "00"), ("P", "02"), ("P", "04"), ("W", "03"), ("W", "05")]
    assert sim.transaction("E").status_desc == "Expired"
    assert [s for _, s in sim.transaction("P").history] == ["01", "02", "00", "04"]


# -- SNAP VA flow ------------------------------------------------------------------------------


class SnapMerchant(MerchantApp):
    """A merchant that implements the SNAP VA endpoints and verifies what Ayolinx sends."""

    def __init__(self, account: MerchantAccount, ayolinx_public: rsa.RSAPublicKey) -> None:
        super().__init__()
        self.account = account
        self.ayolinx_public = ayolinx_public
        self.tokens: list[str] = []
        self.problems: list[str] = []
        self.reject_payments = 0
        self.token_down = 0
        self.routes = {
            "/v1.0/access-token/b2b": self._token,
            "/v1.0/transfer-va/payment": self._payment,
        }

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.token_down:
            self.token_down -= 1
            return 503, b"down"
        if headers["x-client-key"] != self.account.client_key:
            self.problems.append("client key")
        message = token_string_to_sign(headers["x-client-key"], headers["x-timestamp"])
        if not verify_rsa(self.ayolinx_public, message, headers["x-signature"]):
            self.problems.append("token signature")
            return 401, b'{"responseCode":"4017300"}'
        data = json.loads(body)
        if data.get("grant_type") != "client_credentials":
            self.problems.append("grant type")
        token = f"mtok-{len(self.tokens) + 1}"
        self.tokens.append(token)
        answer = {
            "responseCode": "2007300",
            "responseMessage": "Successful",
            "accessToken": token,
            "tokenType": "Bearer",
            "expiresIn": "3600",
        }
        return 200, json.dumps(answer).encode()

    def _payment(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        token = headers["authorization"].removeprefix("Bearer ")
        if token not in self.tokens or self.reject_payments:
            self.reject_payments = max(0, self.reject_payments - 1)
            return 401, b'{"responseCode":"4012501","responseMessage":"Invalid token"}'
        message = service_string_to_sign(
            "POST", "/v1.0/transfer-va/payment", token, body, headers["x-timestamp"]
        )
        if not verify_hmac(self.account.client_secret, message, headers["x-signature"]):
            self.problems.append("payment signature")
            return 401, b'{"responseCode":"4012500"}'
        if headers["x-partner-id"] != self.account.client_key:
            self.problems.append("partner id")
        if not headers["x-external-id"].isdigit() or len(headers["x-external-id"]) > 36:
            self.problems.append("external id")
        data = json.loads(body)
        answer = {
            "responseCode": "2002500",
            "responseMessage": "Successful",
            "virtualAccountData": data,
        }
        return 200, json.dumps(answer).encode()


def _va(trx_id: str) -> dict[str, Any]:
    return {
        "partnerServiceId": "   88899",
        "customerNo": "12345678901234567890",
        "virtualAccountName": "Jokul Doe",
        "trxId": trx_id,
        "virtualAccountTrxType": "C",
        "totalAmount": {"value": "50000.00", "currency": "IDR"},
        "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_MANDIRI"},
    }


@pytest.fixture
async def snap(
    merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> AsyncIterator[tuple[Simulator, SnapMerchant]]:
    account = MerchantAccount.from_keys(
        client_key="CKSandbox-snap",
        client_secret="SKSandbox-snap",
        private_key=merchant_key,
        va_snap_base_url="http://merchant.test",
    )
    app = SnapMerchant(account, ayolinx_key.public_key())
    async with (
        app.client() as http,
        Simulator(
            account,
            ayolinx_key=ayolinx_key,
            clock=clock,
            http_client=http,
            sleep=ScaledSleep(clock),
            time_scale=SCALE,
        ) as sim,
    ):
        yield sim, app


async def test_snap_va_flow(snap: tuple[Simulator, SnapMerchant]) -> None:
    sim, app = snap
    async with sim.client() as client:
        created = await client.request("/v1.0/transfer-va/create-va", _va("VA-S1"))
        await client.request("/v1.0/transfer-va/create-va", _va("VA-S2"))
    assert created.body["virtualAccountData"]["virtualAccountNo"] == "8889912345678901234567890"
    await sim.pay("VA-S1")
    await sim.pay("VA-S2")
    await sim.drain(timeout=5)
    assert app.problems == []
    paths = [r.path for r in app.received]
    # One merchant token serves both payments (cached until it expires).
    assert paths == [
        "/v1.0/access-token/b2b",
        "/v1.0/transfer-va/payment",
        "/v1.0/transfer-va/payment",
    ]
    token_request = app.received[0].json
    assert token_request == {
        "grant_type": "client_credentials",
        "additionalInfo": {"channel": 13, "client_id": "CKSandbox-snap"},
    }
    payment = next(r.json for r in app.received[1:] if r.json["trxId"] == "VA-S1")
    assert payment["partnerServiceId"] == "   88899"
    assert payment["virtualAccountNo"] == "8889912345678901234567890"
    assert payment["paidAmount"] == {"value": "50000.00", "currency": "IDR"}
    assert payment["additionalInfo"]["channel"] == "VIRTUAL_ACCOUNT_MANDIRI"
    assert set(payment) >= {"paymentRequestId", "virtualAccountTrxType", "virtualAccountName"}
    assert body_digest(app.received[1].body) != body_digest(app.received[2].body)
    for delivery in sim.deliveries():
        assert delivery.kind is DeliveryKind.SNAP_VA
        assert delivery.state is DeliveryState.DELIVERED
        assert delivery.attempts[-1].step == "payment"


async def test_snap_va_refetches_a_rejected_token_and_survives_token_outage(
    snap: tuple[Simulator, SnapMerchant],
) -> None:
    sim, app = snap
    async with sim.client() as client:
        await client.request("/v1.0/transfer-va/create-va", _va("VA-R"))
    app.token_down = 1
    app.reject_payments = 1
    await sim.pay("VA-R")
    await sim.drain(timeout=5)
    [delivery] = sim.deliveries("VA-R")
    assert [(a.step, a.status_code, a.ok) for a in delivery.attempts] == [
        ("token", 503, False),
        ("payment", 401, False),
        ("payment", 200, True),
    ]
    assert app.tokens == ["mtok-1", "mtok-2"]  # the rejected token was not reused
    assert delivery.state is DeliveryState.DELIVERED


async def test_snap_va_only_reports_payments(snap: tuple[Simulator, SnapMerchant]) -> None:
    sim, app = snap
    async with sim.client() as client:
        await client.request("/v1.0/transfer-va/create-va", _va("VA-X"))
    await sim.fail("VA-X")
    await sim.drain(timeout=5)
    assert sim.deliveries() == []
    assert app.received == []


async def test_merchant_tokens_never_appear_in_recorded_attempts(
    snap: tuple[Simulator, SnapMerchant],
) -> None:
    sim, app = snap
    leaked = {"responseCode": "5007300", "accessToken": "merchant-secret-token"}
    original = app.routes["/v1.0/access-token/b2b"]
    calls = {"n": 0}

    def flaky(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        calls["n"] += 1
        if calls["n"] == 1:
            return 500, json.dumps(leaked).encode()
        return original(headers, body)  # type: ignore[no-any-return]

    app.routes["/v1.0/access-token/b2b"] = flaky
    async with sim.client() as client:
        await client.request("/v1.0/transfer-va/create-va", _va("VA-T"))
    await sim.pay("VA-T")
    await sim.drain(timeout=5)
    [delivery] = sim.deliveries("VA-T")
    assert delivery.state is DeliveryState.DELIVERED
    first = delivery.attempts[0]
    assert (first.step, first.status_code) == ("token", 500)
    assert "merchant-secret-token" not in json.dumps(delivery.to_json())
    assert json.loads(first.response)["accessToken"] == "***"

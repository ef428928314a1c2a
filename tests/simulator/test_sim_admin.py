"""The ``/_simulator/`` back office over HTTP, and the ledger's rules underneath it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.signing import load_public_key
from ayolinx_async.simulator import (
    LookupFailed,
    MerchantAccount,
    PaymentProduct,
    Simulator,
    TransitionRefused,
)
from ayolinx_async.simulator._ledger import ExternalIdRegistry, Ledger, Order
from tests._fakes import FakeClock

from ._helpers import MerchantApp, qr_body

pytestmark = pytest.mark.anyio


async def _no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


@pytest.fixture
async def admin(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim), base_url="http://ayolinx.simulator"
    ) as client:
        yield client


async def _qr(sim: Simulator, reference: str) -> str:
    async with sim.client() as client:
        await client.request("/v1.0/qr/qr-mpm-generate", qr_body(reference))
    return sim.transaction(reference).reference_no


async def test_index_lists_routes(admin: httpx.AsyncClient, sim: Simulator) -> None:
    index = (await admin.get("/_simulator/")).json()
    assert index["merchant"] == sim.merchant.client_key
    assert index["running"] is True
    assert any("/pay" in route for route in index["routes"])


async def test_pay_fail_and_inspect_over_http(
    admin: httpx.AsyncClient, sim: Simulator, merchant_app: MerchantApp
) -> None:
    ref = await _qr(sim, "ADM-1")
    listed = (await admin.get("/_simulator/transactions")).json()
    assert [t["partnerReferenceNo"] for t in listed] == ["ADM-1"]
    one = (await admin.get("/_simulator/transactions/ADM-1")).json()  # by partner reference
    assert one["referenceNo"] == ref
    assert one["details"]["qrContent"].startswith("000201")

    paid = await admin.post(f"/_simulator/transactions/{ref}/pay", json={"viaPaying": True})
    assert paid.status_code == 200
    assert paid.json()["latestTransactionStatus"] == "00"
    assert [h["status"] for h in paid.json()["history"]] == ["01", "02", "00"]
    again = await admin.post(f"/_simulator/transactions/{ref}/fail")
    assert again.status_code == 409
    assert "cannot move to 06" in again.json()["error"]

    await admin.post("/_simulator/drain")
    deliveries = (await admin.get("/_simulator/deliveries", params={"reference": ref})).json()
    assert sorted(d["latestTransactionStatus"] for d in deliveries) == ["00", "02"]
    assert all(d["state"] == "delivered" for d in deliveries)
    assert deliveries[0]["attempts"][0]["statusCode"] == 200
    assert len(merchant_app.received) == 2

    requests = (await admin.get("/_simulator/requests")).json()
    assert requests[-1]["path"] == "/v1.0/qr/qr-mpm-generate"
    assert requests[-1]["responseCode"] == "2004700"


async def test_other_actions_over_http(admin: httpx.AsyncClient, sim: Simulator) -> None:
    refs = [await _qr(sim, f"ACT-{n}") for n in range(4)]
    assert (await admin.post(f"/_simulator/transactions/{refs[0]}/cancel")).json()[
        "latestTransactionStatus"
    ] == "05"
    expired = (await admin.post(f"/_simulator/transactions/{refs[1]}/expire")).json()
    assert (expired["latestTransactionStatus"], expired["transactionStatusDesc"]) == (
        "05",
        "Expired",
    )
    pending = await admin.post(f"/_simulator/transactions/{refs[2]}/status", json={"status": "03"})
    assert pending.json()["latestTransactionStatus"] == "03"
    await admin.post(f"/_simulator/transactions/{refs[3]}/pay")
    refunded = (await admin.post(f"/_simulator/transactions/{refs[3]}/refund")).json()
    assert refunded["latestTransactionStatus"] == "04"


async def test_admin_errors(admin: httpx.AsyncClient, sim: Simulator) -> None:
    await _qr(sim, "ERR-1")
    assert (await admin.get("/_simulator/transactions/unknown")).status_code == 404
    assert (await admin.post("/_simulator/transactions/ERR-1/explode")).status_code == 404
    assert (await admin.get("/_simulator/nothing")).status_code == 404
    bad_json = await admin.post(
        "/_simulator/transactions/ERR-1/pay",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 400
    no_status = await admin.post("/_simulator/transactions/ERR-1/status", json={})
    assert no_status.status_code == 400
    wrong_amount = await admin.post("/_simulator/transactions/ERR-1/pay", json={"amount": "5"})
    assert wrong_amount.status_code == 400
    assert "open-amount" in wrong_amount.json()["error"]


async def test_faults_and_tokens_over_http(admin: httpx.AsyncClient, sim: Simulator) -> None:
    set_ = await admin.post(
        "/_simulator/faults",
        json={"latency": 0.0, "errorRate": 0.25, "paths": ["/v1.0/qr/qr-mpm-query"]},
    )
    assert set_.json()["errorRate"] == 0.25
    assert sim.faults.paths == frozenset({"/v1.0/qr/qr-mpm-query"})
    injected = await admin.post("/_simulator/faults", json={"inject": "drop", "count": 2})
    assert injected.json()["pendingInjections"] == 2
    bad = await admin.post("/_simulator/faults", json={"errorRate": 3})
    assert bad.status_code == 400
    async with sim.client(sleep=_no_sleep) as client:
        # Both injected drops hit token requests (issued, answer lost); the third got through.
        await client.get_access_token()
    assert sim.fault_plan.pending_shots == 0
    assert (await admin.post("/_simulator/tokens/revoke")).json() == {"revoked": 3}


async def test_public_key_and_checkout_page(admin: httpx.AsyncClient, sim: Simulator) -> None:
    pem = await admin.get("/_simulator/keys/ayolinx-public.pem")
    key = load_public_key(pem.content)
    assert key.public_numbers() == sim.ayolinx_public_key.public_numbers()

    ref = await _qr(sim, "<b>CHK</b>")
    page = await admin.get(f"/_simulator/checkout/{ref}")
    assert page.headers["content-type"].startswith("text/html")
    assert "IDR 10,000.00" in page.text
    assert "&lt;b&gt;CHK&lt;/b&gt;" in page.text  # escaped
    assert f'action="/_simulator/transactions/{ref}/pay"' in page.text
    # The page's form posts (with its CSRF token) and is sent back to the page.
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    form = {"content-type": "application/x-www-form-urlencoded"}
    forged = await admin.post(f"/_simulator/transactions/{ref}/pay", content=b"", headers=form)
    assert forged.status_code == 403  # a cross-site form cannot pay
    clicked = await admin.post(
        f"/_simulator/transactions/{ref}/pay",
        content=f"csrf={found.group(1)}".encode(),
        headers=form,
    )
    assert clicked.status_code == 303
    assert clicked.headers["location"] == f"/_simulator/checkout/{ref}"
    after = await admin.get(f"/_simulator/checkout/{ref}")
    assert "00 Success" in after.text
    assert "<button" not in after.text


async def test_auto_pay_like_demo_mode(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    app = MerchantApp()
    async with (
        app.client() as http,
        Simulator(
            account, ayolinx_key=ayolinx_key, clock=clock, http_client=http, auto_pay_after=0.01
        ) as sim,
    ):
        await _qr(sim, "AUTO-1")
        await sim.drain(timeout=5)
    assert sim.transaction("AUTO-1").status == "00"
    assert app.received[-1].json["latestTransactionStatus"] == "00"


async def test_auto_pay_skips_settled_transactions(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    async with Simulator(
        account, ayolinx_key=ayolinx_key, clock=clock, auto_pay_after=0.05,
        http_client=MerchantApp().client(),
    ) as sim:  # fmt: skip
        ref = await _qr(sim, "AUTO-2")
        await sim.cancel(ref)
        await sim.drain(timeout=5)
    assert sim.transaction(ref).status == "05"


# -- ledger rules --------------------------------------------------------------------------


def _open(
    ledger: Ledger, ref: str, product: PaymentProduct = PaymentProduct.QRIS, partner: str = "P"
) -> None:
    order = Order(
        partner_reference_no=partner,
        amount=(Decimal("1.00"), "IDR"),
        channel="BNC_QRIS",
        expires_at=3600.0,
        notify_url=None,
    )
    ledger.open(order, reference_no=ref, product=product, client_key="CK", now=0.0, details={})


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["02", "03", "00"], True),
        (["00", "04"], True),
        (["05"], True),
        (["06"], True),
        (["00", "06"], False),
        (["05", "00"], False),
        (["06", "00"], False),
        (["04"], False),
        (["01"], False),
        (["07"], False),
        (["00", "04", "00"], False),
    ],
)
def test_ledger_transitions(path: list[str], allowed: bool) -> None:
    ledger = Ledger()
    _open(ledger, "R")
    try:
        for status in path:
            ledger.move("R", status, 1.0)
    except TransitionRefused:
        assert not allowed
    else:
        assert allowed
        assert ledger.get("R").history[-1][1] == path[-1]


def test_ledger_lookup_by_partner_reference_must_be_unambiguous() -> None:
    ledger = Ledger()
    _open(ledger, "R1", PaymentProduct.QRIS, partner="SAME")
    _open(ledger, "R2", PaymentProduct.RETAIL, partner="SAME")
    _open(ledger, "R3", PaymentProduct.RETAIL, partner="ONLY")
    assert ledger.get("ONLY").reference_no == "R3"
    assert ledger.get("R2").product is PaymentProduct.RETAIL
    with pytest.raises(LookupFailed, match="ambiguous"):
        ledger.get("SAME")
    with pytest.raises(LookupFailed, match="no transaction"):
        ledger.get("MISSING")
    with pytest.raises(ValueError, match="duplicate"):
        _open(ledger, "R4", PaymentProduct.QRIS, partner="SAME")


def test_external_id_registry_day_boundary_in_jakarta() -> None:
    registry = ExternalIdRegistry()
    before_midnight = 1_726_160_399.0  # 2024-09-12T23:59:59+07:00
    assert registry.claim("CK", "1", before_midnight)
    assert not registry.claim("CK", "1", before_midnight)
    assert registry.claim("OTHER", "1", before_midnight)  # per merchant
    assert registry.claim("CK", "1", before_midnight + 1)  # 00:00:00 the next day


async def test_websocket_and_oversized_requests_are_refused(sim: Simulator) -> None:
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": True}

    await sim({"type": "websocket", "path": "/"}, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1003}]
    sent.clear()
    scope = {"type": "http", "method": "POST", "path": "/v1.0/qr/qr-mpm-generate", "headers": []}
    await sim(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("token_lifetime", 0),
        ("token_lifetime", 1.5),
        ("timestamp_tolerance", 0),
        ("auto_pay_after", -1),
        ("time_scale", -1),
        ("retry_schedule", (60, -5)),
        ("delivery_timeout", 0),
    ],
)
def test_bad_simulator_settings_are_refused(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, option: str, value: object
) -> None:
    from ayolinx_async import ConfigurationError

    with pytest.raises(ConfigurationError):
        Simulator(account, ayolinx_key=ayolinx_key, **{option: value})  # type: ignore[arg-type]


def test_secrets_stay_out_of_reprs(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    sim = Simulator(account, ayolinx_key=ayolinx_key)
    for text in (repr(sim), repr(sim.merchant), repr(sim.credentials())):
        assert account.client_secret not in text
        assert "PRIVATE KEY" not in text

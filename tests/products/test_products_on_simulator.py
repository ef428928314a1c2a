"""Every product end to end against the embedded simulator, which verifies signatures strictly.

Callbacks go to an in-process recorder (``httpx.MockTransport``): no sockets, no egress.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from ayolinx_async import AyolinxClient
from ayolinx_async.models import Channel, PaymentLinkItem, TransactionStatus
from ayolinx_async.simulator import Simulator

from ._wire import jakarta

pytestmark = pytest.mark.anyio

NOTIFY = "https://merchant.example/ayolinx/notify"
NOW = jakarta(2026, 3, 2, 10)
FIXED_EPOCH = NOW.timestamp()


class _Callbacks:
    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"responseCode": "2005600", "responseMessage": "OK"})


@pytest.fixture
def callbacks() -> _Callbacks:
    return _Callbacks()


@pytest.fixture
async def sim_client(callbacks: _Callbacks) -> AsyncIterator[tuple[Simulator, AyolinxClient]]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(callbacks)) as merchant_side:
        sim = Simulator(http_client=merchant_side, clock=lambda: FIXED_EPOCH, seed=7)
        async with sim, sim.client() as client:
            yield sim, client


async def test_qris_generate_pay_query_and_cancel(
    sim_client: tuple[Simulator, AyolinxClient], callbacks: _Callbacks
) -> None:
    sim, client = sim_client
    qr = await client.qris.generate(
        partner_reference_no="ORDER-1", amount="25000", notification_url=NOTIFY
    )
    assert qr.qr_content is not None
    assert "ID.CO.BANKNEOCOMMERCE.WWW" in qr.qr_content
    assert qr.to_svg().startswith("<?xml")
    before = await client.qris.query(original_partner_reference_no="ORDER-1")
    assert before.latest_transaction_status is not None
    assert not before.latest_transaction_status.is_terminal
    await sim.pay("ORDER-1")
    await sim.drain()
    after = await client.qris.query(original_partner_reference_no="ORDER-1")
    assert after.latest_transaction_status is TransactionStatus.SUCCESS
    assert callbacks.bodies[-1]["originalPartnerReferenceNo"] == "ORDER-1"
    await client.qris.generate(partner_reference_no="ORDER-2", amount=1000)
    cancelled = await client.qris.cancel(original_partner_reference_no="ORDER-2")
    assert cancelled.original_partner_reference_no == "ORDER-2"
    status = await client.qris.query(original_partner_reference_no="ORDER-2")
    assert status.latest_transaction_status is TransactionStatus.CANCELED


async def test_dana_payment_and_status(sim_client: tuple[Simulator, AyolinxClient]) -> None:
    sim, client = sim_client
    payment = await client.ewallet.create_payment(
        partner_reference_no="DANA-1",
        amount=30000,
        valid_up_to=NOW + timedelta(minutes=30),
        return_url="https://merchant.example/back",
    )
    assert payment.web_redirect_url
    await sim.pay("DANA-1")
    status = await client.ewallet.inquire_status(original_partner_reference_no="DANA-1")
    assert status.is_paid
    assert status.channel is Channel.EMONEY_DANA_SNAP


async def test_virtual_account_create_and_inquire(
    sim_client: tuple[Simulator, AyolinxClient],
) -> None:
    sim, client = sim_client
    va = await client.virtual_accounts.create(
        channel="VIRTUAL_ACCOUNT_BNI",
        trx_id="INV-77",
        customer_no="0812345678",
        virtual_account_name="Budi",
        total_amount="150000",
        expired_date=NOW + timedelta(days=1),
    )
    assert va.virtual_account_no is not None
    assert va.virtual_account_no.endswith("0812345678")
    await sim.pay("INV-77")
    status = await client.virtual_accounts.inquire(
        original_partner_reference_no="INV-77", channel="VIRTUAL_ACCOUNT_BNI"
    )
    assert status.latest_transaction_status is TransactionStatus.SUCCESS


async def test_retail_create_and_query(sim_client: tuple[Simulator, AyolinxClient]) -> None:
    _, client = sim_client
    created = await client.retail.create(
        partner_reference_no="SHOP-9",
        amount=50000,
        channel="RETAIL_ALFAMIDI",
        valid_up_to=NOW + timedelta(days=1),
        customer_name="Siti",
        customer_email="siti@example.com",
    )
    assert created.response_code.value == "00"
    assert created.va_number
    status = await client.retail.query(
        original_partner_reference_no="SHOP-9", channel="RETAIL_ALFAMIDI"
    )
    assert status.latest_transaction_status is TransactionStatus.INITIATED


async def test_payment_link_create(sim_client: tuple[Simulator, AyolinxClient]) -> None:
    _, client = sim_client
    link = await client.payment_links.create(
        partner_reference_no="LINK-5",
        items=[PaymentLinkItem(name="Kopi", price=18000, quantity=2)],
        payment_channels=["BNC_QRIS", "EMONEY_DANA_SNAP"],
        customer_name="Ani",
        customer_email="ani@example.com",
        expiry_time=NOW + timedelta(hours=2),
    )
    assert link.partner_reference_no == "LINK-5"
    assert link.link_id
    assert link.link_id != "LINK-5"
    assert link.payment_link is not None
    assert link.payment_link.endswith(link.link_id)

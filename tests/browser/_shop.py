"""A shop's calls, one per product, as the console and browser tests make them through the SDK.

Each helper creates one payment and returns the simulator's reference for it (the one in the
checkout URL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ayolinx_async import AyolinxClient
from ayolinx_async.models import PaymentLinkItem
from ayolinx_async.simulator import Simulator

XSS_SCRIPT = "<script>window.__xss=1;alert(1)</script>"
XSS_ATTR = '"onerror=window.__xss=1;alert(1)//'
XSS_IMG = '<img src=x onerror="window.__xss=1;alert(1)">'


def soon(seconds: float = 3600) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def qris(
    client: AyolinxClient, sim: Simulator, reference: str, amount: str = "10000.00"
) -> str:
    await client.qris.generate(partner_reference_no=reference, amount=amount)
    return sim.transaction(reference).reference_no


async def virtual_account(
    client: AyolinxClient, sim: Simulator, reference: str, name: str = "Budi Santoso"
) -> str:
    await client.virtual_accounts.create(
        channel="VIRTUAL_ACCOUNT_BNI",
        trx_id=reference,
        customer_no="081234567890",
        virtual_account_name=name,
        total_amount="150000.00",
    )
    return sim.transaction(reference).reference_no


async def retail(
    client: AyolinxClient, sim: Simulator, reference: str, name: str = "Siti Rahma"
) -> str:
    await client.retail.create(
        partner_reference_no=reference,
        amount="45000.00",
        channel="RETAIL_ALFAMART",
        valid_up_to=soon(),
        customer_name=name,
        customer_email="customer@example.com",
    )
    return sim.transaction(reference).reference_no


async def payment_link(
    client: AyolinxClient,
    sim: Simulator,
    reference: str,
    *,
    names: tuple[str, str] = ("Kopi susu", "Roti bakar"),
    customer: str = "Dewi",
) -> str:
    created = await client.payment_links.create(
        partner_reference_no=reference,
        items=[
            PaymentLinkItem(name=names[0], price=20000, quantity=2),
            PaymentLinkItem(name=names[1], price=15000, quantity=1),
        ],
        customer_name=customer,
        customer_email="customer@example.com",
        payment_channels=["BNC_QRIS", "VIRTUAL_ACCOUNT_BNI"],
    )
    assert created.link_id
    return created.link_id


async def dana(
    client: AyolinxClient, sim: Simulator, reference: str, return_url: str | None = None
) -> str:
    await client.ewallet.create_payment(
        partner_reference_no=reference,
        amount="30000.00",
        return_url=return_url,
        valid_up_to=soon(),
    )
    return sim.transaction(reference).reference_no

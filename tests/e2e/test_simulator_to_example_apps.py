"""The embedded simulator as the sender, the example merchant apps as the receivers, real TCP on
127.0.0.1 in between: FastAPI under uvicorn and aiohttp under its AppRunner get the simulator's
own signed callbacks for QRIS, e-wallet, retail, payment links and non-SNAP VAs, the SNAP VA
token + payment flow, and reject (and see retried) callbacks signed with a key they don't trust.

Transactions are created with the SDK's typed client against the simulator; the simulator pays
them and delivers; each test then reads both sides: the simulator's delivery record and the
app's verified event and order book."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import attrs
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient
from ayolinx_async.callbacks import (
    EwalletNotification,
    NotificationKind,
    PaymentLinkNotification,
    PaymentNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
)
from ayolinx_async.models import Amount
from ayolinx_async.models._payment_link import PaymentLinkItem
from ayolinx_async.simulator import (
    DEFAULT_SCHEDULE,
    Delivery,
    DeliveryKind,
    DeliveryState,
    MerchantAccount,
    generate_rsa_key,
)
from tests.conftest import CLIENT_KEY

from ._helpers import CALLBACK_PATH, TIME_SCALE, Shop, running_shop, running_simulator

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]
KINDS = pytest.mark.parametrize("kind", ["fastapi", "aiohttp"])

ACK = {"responseCode": "2005600", "responseMessage": "Successful"}
TOKEN_PATH = "/v1.0/access-token/b2b"
VA_PAYMENT_PATH = "/v1.0/transfer-va/payment"
AMOUNT = Decimal("25000.00")
VA_CHANNEL = "VIRTUAL_ACCOUNT_BNI"


def _soon(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def _order(name: str, kind: str) -> str:
    # Letters and digits only, so the same string is also a valid VA trxId.
    return f"E2E{name.upper()}{kind.upper()}{datetime.now(UTC):%H%M%S%f}"


def _assert_delivered_first_time(delivery: Delivery, url: str, step: str) -> dict[str, object]:
    """One delivery, acknowledged at attempt 1 with HTTP 200 and a JSON body; the answer."""
    assert delivery.state is DeliveryState.DELIVERED, delivery.attempts
    assert delivery.url == url
    assert delivery.latest_status == "00"
    assert len(delivery.attempts) == 1, delivery.attempts
    attempt = delivery.attempts[0]
    assert (attempt.number, attempt.delay_before, attempt.step) == (1, 0.0, step)
    assert attempt.status_code == 200
    assert attempt.ok
    assert attempt.error is None
    assert attempt.url == url
    answer = json.loads(attempt.response)
    assert isinstance(answer, dict)
    return answer


async def _assert_order_book(
    shop: Shop, order: str, event: str, channel: str, amount: Decimal = AMOUNT
) -> None:
    """The example app's ``GET /orders/{order}`` shows the callback it applied."""
    response = await shop.order(order)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "00",
        "amount": f"{amount:.2f}",
        "event": event,
        "channel": channel,
    }


# -- non-SNAP notify products, URL per request (urlParams NOTIFICATION) -----------------------


@attrs.frozen(kw_only=True)
class _Product:
    """One product's create call and what its callback must look like."""

    name: str
    event_type: type[PaymentNotification]
    channel: str
    create: Callable[[AyolinxClient, str, str], Awaitable[str]]
    pay_channel: str | None = None


async def _create_qris(client: AyolinxClient, order: str, notify_url: str) -> str:
    created = await client.qris.generate(
        partner_reference_no=order, amount=AMOUNT, notification_url=notify_url
    )
    assert created.response_code.value == "2004700"
    return order


async def _create_ewallet(client: AyolinxClient, order: str, notify_url: str) -> str:
    created = await client.ewallet.create_payment(
        partner_reference_no=order,
        amount=AMOUNT,
        return_url="https://shop.example/thanks",
        notification_url=notify_url,
        valid_up_to=_soon(1),
    )
    assert created.response_code.value == "2005400"
    assert created.reference_no
    return created.reference_no


async def _create_retail(client: AyolinxClient, order: str, notify_url: str) -> str:
    created = await client.retail.create(
        partner_reference_no=order,
        amount=AMOUNT,
        channel="RETAIL_ALFAMIDI",
        valid_up_to=_soon(24),
        customer_name="Budi Santoso",
        customer_email="budi@example.com",
        notification_url=notify_url,
    )
    assert created.response_code.value == "00"
    return order


async def _create_link(client: AyolinxClient, order: str, notify_url: str) -> str:
    created = await client.payment_links.create(
        partner_reference_no=order,
        items=[PaymentLinkItem(name="Kopi susu", price=12500, quantity=2)],
        customer_name="Budi Santoso",
        customer_email="budi@example.com",
        payment_channels=["BNC_QRIS", "EMONEY_DANA_SNAP", VA_CHANNEL],
        expiry_time=_soon(2),
        notification_url=notify_url,
    )
    assert created.response_code.value == "2000100"
    assert created.link_id
    return created.link_id


PRODUCTS = [
    _Product(name="qris", event_type=QrisNotification, channel="BNC_QRIS", create=_create_qris),
    _Product(
        name="ewallet",
        event_type=EwalletNotification,
        channel="EMONEY_DANA_SNAP",
        create=_create_ewallet,
    ),
    _Product(
        name="retail",
        event_type=RetailNotification,
        channel="RETAIL_ALFAMIDI",
        create=_create_retail,
    ),
    _Product(
        name="payment_link",
        event_type=PaymentLinkNotification,
        channel="EMONEY_DANA_SNAP",  # the channel the payer picks on the link page
        create=_create_link,
        pay_channel="EMONEY_DANA_SNAP",
    ),
]


@KINDS
@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.name)
async def test_simulator_notifies_example_app_over_loopback(
    kind: str,
    product: _Product,
    merchant_key: rsa.RSAPrivateKey,
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    order = _order(product.name, kind)
    async with (
        running_shop(kind, ayolinx_key.public_key()) as shop,
        running_simulator(merchant_key, ayolinx_key) as (sim, wire),
        sim.client() as client,
    ):
        reference = await product.create(client, order, shop.notify_url)
        # The shop's order: keyed by your reference (the link id for payment links).
        await shop.open_order(reference if product.name == "payment_link" else order, AMOUNT)
        paid = await sim.pay(reference, channel=product.pay_channel)
        await sim.drain(timeout=10)

        # The simulator's side: one delivery, to the URL given in the request, taken at once.
        (delivery,) = sim.deliveries(reference)
        assert delivery.kind is DeliveryKind.NOTIFY
        assert _assert_delivered_first_time(delivery, shop.notify_url, "notify") == ACK
        assert [(x.method, x.url, x.status_code) for x in wire.exchanges] == [
            ("POST", shop.notify_url, 200)
        ]
        assert shop.notify_url.startswith("http://127.0.0.1:")

        # The app's side: exactly the bytes the simulator signed, verified and typed.
        (event,) = shop.events.events
        assert shop.events.calls == 1
        assert type(event) is product.event_type
        assert isinstance(event, PaymentNotification)
        assert event.raw == delivery.body
        assert event.path == CALLBACK_PATH
        assert event.status == "00"
        assert event.status.is_success
        assert event.amount == Amount(value=AMOUNT, currency="IDR")
        assert event.channel == product.channel
        assert event.original_partner_reference_no == order
        assert event.finished_time is not None
        book_key = order
        if isinstance(event, PaymentLinkNotification):
            assert event.plh == reference  # the link id from create
            assert event.via is NotificationKind.EWALLET
            assert event.original_reference_no == paid.details["paymentReferenceNo"]
            book_key = reference  # the example keys links by plh
        else:
            assert event.original_reference_no == paid.reference_no
        if isinstance(event, QrisNotification):
            assert event.rrn == delivery.payload["additionalInfo"]["RRN"]
            assert event.fee == Amount(value=Decimal("175.00"))  # the simulator's 0.7 % MDR
        if isinstance(event, EwalletNotification):
            assert event.transaction_status_desc == "Success"
        await _assert_order_book(shop, book_key, product.event_type.__name__, product.channel)


# -- virtual accounts: the back-office settings choose the flow -------------------------------


async def _create_va(client: AyolinxClient, order: str, customer_no: str) -> str:
    created = await client.virtual_accounts.create(
        channel=VA_CHANNEL,
        trx_id=order,
        customer_no=customer_no,
        virtual_account_name="Budi Santoso",
        total_amount=AMOUNT,
    )
    assert created.response_code.value == "2002700"
    assert created.virtual_account_no
    return created.virtual_account_no


@attrs.frozen(kw_only=True)
class _NonSnapVaRun:
    """What one non-SNAP VA payment left on both sides."""

    order: str
    va_number: str
    reference_no: str
    notify_url: str
    deliveries: list[Delivery]
    wire_paths: list[str]
    events: list[object]
    order_book: httpx.Response
    inquiry_status: str | None


async def _run_non_snap_va(
    kind: str, merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> _NonSnapVaRun:
    """Create a VA with the SDK, pay it in the simulator (no SNAP base URL: the account's
    callback URL is the example app's notify URL), let the delivery finish."""
    order = _order("va", kind)
    async with (
        running_shop(kind, ayolinx_key.public_key()) as shop,
        running_simulator(merchant_key, ayolinx_key, callback_url=shop.notify_url) as (sim, wire),
        sim.client() as client,
    ):
        await shop.open_order(order, AMOUNT)
        va_number = await _create_va(client, order, "81234567")
        paid = await sim.pay(order)
        await sim.drain(timeout=10)
        inquiry = await client.virtual_accounts.inquire(
            original_partner_reference_no=order, channel=VA_CHANNEL
        )
        return _NonSnapVaRun(
            order=order,
            va_number=va_number,
            reference_no=paid.reference_no,
            notify_url=shop.notify_url,
            deliveries=sim.deliveries(order),
            wire_paths=wire.paths(),
            events=list(shop.events.events),
            order_book=await shop.order(order),
            inquiry_status=inquiry.latest_transaction_status,
        )


@KINDS
async def test_non_snap_va_is_notified_to_the_accounts_callback_url(
    kind: str, merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    """Without a SNAP base URL, a VA payment is a plain notify to the account's callback URL
    (VA create carries no NOTIFICATION URL)."""
    run = await _run_non_snap_va(kind, merchant_key, ayolinx_key)
    (delivery,) = run.deliveries
    assert delivery.kind is DeliveryKind.NOTIFY
    assert _assert_delivered_first_time(delivery, run.notify_url, "notify") == ACK
    assert run.wire_paths == [CALLBACK_PATH]  # no token request in this flow
    assert delivery.payload["additionalInfo"]["virtualAccountNo"] == run.va_number

    (event,) = run.events
    assert isinstance(event, VirtualAccountNotification)
    assert event.raw == delivery.body
    assert event.path == CALLBACK_PATH
    assert event.status == "00"
    assert event.amount == Amount(value=AMOUNT)
    assert event.channel == VA_CHANNEL
    assert event.payment_ntb == delivery.payload["additionalInfo"]["paymentNtb"]
    assert event.original_partner_reference_no == run.order
    assert event.original_reference_no == run.reference_no
    assert run.order_book.status_code == 200
    assert run.order_book.json() == {
        "status": "00",
        "amount": "25000.00",
        "event": "VirtualAccountNotification",
        "channel": VA_CHANNEL,
    }
    assert run.inquiry_status == "00"


@KINDS
async def test_non_snap_va_number_reaches_the_app(
    kind: str, merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    run = await _run_non_snap_va(kind, merchant_key, ayolinx_key)
    (event,) = run.events
    assert isinstance(event, VirtualAccountNotification)
    assert event.virtual_account_no == run.va_number


@KINDS
async def test_snap_va_gets_the_merchant_token_then_pays(
    kind: str, merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    """With ``va_snap_base_url``, the simulator first calls the app's token endpoint (RSA with
    the Ayolinx key), then ``/v1.0/transfer-va/payment`` with that Bearer token and the HMAC
    keyed by the shared client secret; the token is reused for the next payment. The app
    answers ``2002500`` and books the order under its ``trxId``."""
    orders = [_order("snapa", kind), _order("snapb", kind)]
    async with running_shop(kind, ayolinx_key.public_key()) as shop:
        payment_url = shop.base_url + VA_PAYMENT_PATH
        async with (
            running_simulator(merchant_key, ayolinx_key, va_snap_base_url=shop.base_url) as (
                sim,
                wire,
            ),
            sim.client() as client,
        ):
            numbers = [
                await _create_va(client, order, f"7000000{i}") for i, order in enumerate(orders)
            ]
            for order, number in zip(orders, numbers, strict=True):
                assert (await shop.order(order)).status_code == 404
                await shop.open_order(order, AMOUNT)
                assert (await shop.order(order)).json()["status"] is None
                await sim.pay(order)
                await sim.drain(timeout=10)
                (delivery,) = sim.deliveries(order)
                assert delivery.kind is DeliveryKind.SNAP_VA
                answer = _assert_delivered_first_time(delivery, payment_url, "payment")
                assert answer["responseCode"] == "2002500"
                data = answer["virtualAccountData"]
                assert isinstance(data, dict)
                assert data["virtualAccountNo"] == number
                assert data["trxId"] == order
                assert data["paidAmount"] == {"value": "25000.00", "currency": "IDR"}
                # The example app's own order book, keyed by trxId.
                await _assert_order_book(shop, order, "VaPaymentRequest", VA_CHANNEL)

            # On the wire: the merchant's token endpoint first (once), then the payments.
            assert [(x.url, x.status_code, x.response_code) for x in wire.exchanges] == [
                (shop.base_url + TOKEN_PATH, 200, "2007300"),
                (payment_url, 200, "2002500"),
                (payment_url, 200, "2002500"),
            ]

    assert [type(e) for e in shop.events.events] == [VaPaymentRequest, VaPaymentRequest]
    request_ids = set()
    for event, order, number in zip(shop.events.events, orders, numbers, strict=True):
        assert isinstance(event, VaPaymentRequest)
        assert event.path == VA_PAYMENT_PATH
        assert event.status == "00"
        assert event.trx_id == order
        assert event.virtual_account_no == number
        assert event.paid_amount == Amount(value=AMOUNT)
        assert event.channel == VA_CHANNEL
        assert event.partner_id == CLIENT_KEY
        assert event.external_id
        assert event.payment_request_id == json.loads(event.raw)["paymentRequestId"]
        request_ids.add(event.payment_request_id)
    assert len(request_ids) == 2


# -- the negative: a simulator signing with a key the app does not trust ----------------------


@pytest.fixture(scope="module")
def rogue_key() -> rsa.RSAPrivateKey:
    """An RSA key that is not the Ayolinx key the apps trust."""
    return generate_rsa_key()


@KINDS
async def test_untrusted_ayolinx_key_is_rejected_and_retried_on_schedule(
    kind: str,
    merchant_key: rsa.RSAPrivateKey,
    ayolinx_key: rsa.RSAPrivateKey,
    rogue_key: rsa.RSAPrivateKey,
) -> None:
    """Every attempt is refused with 401 (notify: ``4015600``; SNAP VA token: ``4017300``), the
    simulator retries after 1, 5, 10 and 60 min (time-scaled) and gives up; the app's listener
    never runs and its order book stays empty."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await anyio.sleep(seconds)

    qris_order, va_order = _order("badqr", kind), _order("badva", kind)
    async with running_shop(kind, ayolinx_key.public_key()) as shop:
        token_url = shop.base_url + TOKEN_PATH
        async with (
            running_simulator(
                merchant_key, rogue_key, va_snap_base_url=shop.base_url, sleep=sleep
            ) as (sim, wire),
            sim.client() as client,
        ):
            await _create_qris(client, qris_order, shop.notify_url)
            await _create_va(client, va_order, "55500001")
            await sim.pay(qris_order)
            await sim.pay(va_order)
            await sim.drain(timeout=10)

            checks = [
                (qris_order, DeliveryKind.NOTIFY, "notify", shop.notify_url, "4015600"),
                (va_order, DeliveryKind.SNAP_VA, "token", token_url, "4017300"),
            ]
            for order, delivery_kind, step, url, code in checks:
                (delivery,) = sim.deliveries(order)
                assert delivery.kind is delivery_kind
                assert delivery.state is DeliveryState.FAILED
                attempts = delivery.attempts
                assert [a.number for a in attempts] == [1, 2, 3, 4, 5]
                assert [a.delay_before for a in attempts] == [0.0, *DEFAULT_SCHEDULE]
                for attempt in attempts:
                    assert (attempt.step, attempt.url, attempt.status_code) == (step, url, 401)
                    assert not attempt.ok
                    assert json.loads(attempt.response)["responseCode"] == code
                for before, after in itertools.pairwise(attempts):
                    # Real time passed between tries (the clock is time.time); allow jitter.
                    assert after.at - before.at >= after.delay_before * TIME_SCALE * 0.5
                # The ledger keeps the payment: the merchant's refusal does not undo it.
                assert sim.transaction(order).status == "00"

            # Each delivery waited the time-scaled schedule, nothing else.
            scaled = [d * TIME_SCALE for d in DEFAULT_SCHEDULE]
            assert sorted(waits) == pytest.approx(sorted(scaled * 2))
            # On the wire: 5 refused notifies, 5 refused token requests, no VA payment call.
            assert sorted(wire.paths()) == sorted([CALLBACK_PATH] * 5 + [TOKEN_PATH] * 5)
            assert {(x.status_code, x.response_code) for x in wire.exchanges} == {
                (401, "4015600"),
                (401, "4017300"),
            }

        assert shop.events.calls == 0
        assert (await shop.order(qris_order)).status_code == 404
        assert (await shop.order(va_order)).status_code == 404


# -- a genuine callback for a different amount never marks the order paid ---------------------


@KINDS
async def test_example_app_books_a_payment_only_for_the_orders_amount(
    kind: str, merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    """The shop opened its order for Rp 25,000. Another merchant of the same Ayolinx names its
    own Rp 1 QR after that order and points its callback at the shop (issue 12 §4): the genuine,
    correctly signed callback is acknowledged, but the order stays unpaid. The shop's own
    payment then marks it paid."""
    order = _order("amount", kind)
    intruder = MerchantAccount.generate()
    async with (
        running_shop(kind, ayolinx_key.public_key()) as shop,
        running_simulator(merchant_key, ayolinx_key) as (sim, _wire),
        sim.client() as client,
    ):
        sim.add_merchant(intruder)
        await shop.open_order(order, AMOUNT)
        async with sim.client(credentials=sim.credentials(intruder.client_key)) as other:
            cheap = await other.qris.generate(
                partner_reference_no=order, amount=1, notification_url=shop.notify_url
            )
        assert cheap.response_code.value == "2004700"
        foreign = next(t for t in sim.transactions() if t.client_key == intruder.client_key)
        await sim.pay(foreign.reference_no)
        await sim.drain(timeout=10)
        (delivery,) = sim.deliveries(foreign.reference_no)
        assert _assert_delivered_first_time(delivery, shop.notify_url, "notify") == ACK
        assert shop.events.calls == 1  # verified and delivered: the signature is genuine
        assert (await shop.order(order)).json()["status"] is None  # but not booked as paid

        await _create_qris(client, order, shop.notify_url)
        own = next(t for t in sim.transactions() if t.client_key == CLIENT_KEY)
        await sim.pay(own.reference_no)
        await sim.drain(timeout=10)
        await _assert_order_book(shop, order, "QrisNotification", "BNC_QRIS")

"""Against the embedded simulator: a money-moving call whose outcome is unknown is never re-sent,
and ``reconcile`` then reports what really happened, for every product with a status query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    AuthenticationError,
    AyolinxClient,
    ConnectionDroppedError,
    NotFoundError,
    OutcomeUnknownError,
    ReadTimeoutError,
    ServerError,
    ValidationError,
)
from ayolinx_async._endpoints import TOKEN_PATH, Endpoint
from ayolinx_async._endpoints import PaymentProduct as Product
from ayolinx_async._reconcile import product_for_path, reconcile
from ayolinx_async.models._ewallet import EwalletStatusResponse
from ayolinx_async.models._qris import QrisQueryResponse
from ayolinx_async.models._retail import RetailQueryResponse
from ayolinx_async.models._virtual_account import VirtualAccountInquiryResponse
from ayolinx_async.testing import Fault
from tests.reliability._gateway import Clock
from tests.reliability._simrig import SimRig, sim_rig

pytestmark = pytest.mark.anyio


@attrs.frozen
class Money:
    """One product's money-moving call and what reconciling it returns."""

    product: Product
    path: str
    channel: str | None  # what reconcile needs to be told (None: the product has one channel)
    result: type
    create: Callable[[SimRig, str], Awaitable[Any]]


def _valid_until(r: SimRig) -> datetime:
    return datetime.fromtimestamp(r.clock() + 3600, UTC)


PRODUCTS = [
    Money(
        Product.QRIS,
        Endpoint.QRIS_GENERATE.path,
        None,
        QrisQueryResponse,
        lambda r, ref: r.client.qris.generate(partner_reference_no=ref, amount=10000),
    ),
    Money(
        Product.EWALLET,
        Endpoint.EWALLET_PAYMENT.path,
        None,
        EwalletStatusResponse,
        lambda r, ref: r.client.ewallet.create_payment(
            partner_reference_no=ref, amount=5000, return_url="https://shop.example/back"
        ),
    ),
    Money(
        Product.VIRTUAL_ACCOUNT,
        Endpoint.VA_CREATE.path,
        "VIRTUAL_ACCOUNT_BNI",
        VirtualAccountInquiryResponse,
        lambda r, ref: r.client.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_BNI",
            trx_id=ref,
            customer_no="81234567",
            virtual_account_name="Budi Santoso",
            total_amount=15000,
        ),
    ),
    Money(
        Product.RETAIL,
        Endpoint.RETAIL_CREATE.path,
        "RETAIL_ALFAMIDI",
        RetailQueryResponse,
        lambda r, ref: r.client.retail.create(
            partner_reference_no=ref,
            amount=20000,
            channel="RETAIL_ALFAMIDI",
            valid_up_to=_valid_until(r),
            customer_name="Budi Santoso",
            customer_email="budi@example.id",
        ),
    ),
]


@pytest.mark.parametrize("money", PRODUCTS, ids=lambda m: m.product.value)
async def test_read_timeout_after_the_money_moved_is_outcome_unknown_then_reconciled(
    money: Money, merchant_key: rsa.RSAPrivateKey
) -> None:
    ref = f"ORD-{money.product.value}-1"
    async with sim_rig(merchant_key) as r:
        r.faults.inject(Fault.read_timeout(after_send=True), path=money.path)
        with pytest.raises(OutcomeUnknownError) as info:
            await money.create(r, ref)
        error = info.value
        assert isinstance(error.cause, ReadTimeoutError)
        assert (error.path, error.partner_reference_no, error.attempts) == (money.path, ref, 1)
        # Zero automatic re-sends: the simulator saw the call exactly once.
        assert r.sim_requests_to(money.path) == 1
        assert len(r.faults.records_for(money.path)) == 1
        assert r.sim.transaction(ref).status == "01"
        # "Did it happen?" is one call, and it tells the simulator's truth.
        status = await reconcile(r.client, error, channel=money.channel)
        assert type(status) is money.result
        assert status.original_partner_reference_no == ref
        assert status.latest_transaction_status == "01"
        assert not status.is_paid
        assert status.external_id != error.external_id  # a new logical call
        await r.sim.pay(ref)
        paid = await reconcile(r.client, ref, product=money.product, channel=money.channel)
        assert paid.latest_transaction_status == "00"
        assert paid.is_paid
        assert paid.is_final
        assert r.sim_requests_to(money.path) == 1


async def test_an_uncertain_cancel_is_reconciled_to_the_cancelled_status(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    async with sim_rig(merchant_key) as r:
        await PRODUCTS[0].create(r, "ORD-CXL-1")
        r.faults.inject(Fault.read_timeout(after_send=True), path=Endpoint.QRIS_CANCEL.path)
        with pytest.raises(OutcomeUnknownError) as info:
            await r.client.qris.cancel(original_partner_reference_no="ORD-CXL-1")
        assert info.value.partner_reference_no == "ORD-CXL-1"
        status = await reconcile(r.client, info.value)
        assert type(status) is QrisQueryResponse
        assert status.latest_transaction_status == "05"
        assert status.is_final
        assert not status.is_paid
        assert r.sim_requests_to(Endpoint.QRIS_CANCEL.path) == 1


async def test_timeout_before_the_request_arrived_reconciles_to_not_found_and_is_safe_to_resend(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    async with sim_rig(merchant_key) as r:
        r.faults.inject(Fault.read_timeout(after_send=False), path=Endpoint.QRIS_GENERATE.path)
        with pytest.raises(OutcomeUnknownError) as info:
            await PRODUCTS[0].create(r, "ORD-LOST-1")
        with pytest.raises(NotFoundError):
            await reconcile(r.client, info.value)
        assert r.sim_requests_to(Endpoint.QRIS_GENERATE.path) == 0
        created = await PRODUCTS[0].create(r, "ORD-LOST-1")  # now provably safe
        assert created.partner_reference_no == "ORD-LOST-1"
        assert (await reconcile(r.client, info.value)).latest_transaction_status == "01"


async def test_simulator_drop_and_error_faults_on_a_money_call(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    async with sim_rig(merchant_key) as r:
        await r.client.get_access_token()
        # "drop": the simulator acts, then closes the connection without an answer.
        r.sim.inject_fault("drop", path=Endpoint.QRIS_GENERATE.path)
        with pytest.raises(OutcomeUnknownError) as dropped:
            await PRODUCTS[0].create(r, "ORD-DROP-1")
        assert isinstance(dropped.value.cause, ConnectionDroppedError)
        assert (await reconcile(r.client, dropped.value)).latest_transaction_status == "01"
        # "error": a 500 before acting. Still unknown to the client; reconcile says no.
        r.sim.inject_fault("error", path=Endpoint.QRIS_GENERATE.path)
        with pytest.raises(OutcomeUnknownError) as failed:
            await PRODUCTS[0].create(r, "ORD-ERR-1")
        assert isinstance(failed.value.cause, ServerError)
        with pytest.raises(NotFoundError):
            await reconcile(r.client, failed.value)
        assert r.sim_requests_to(Endpoint.QRIS_GENERATE.path) == 2


async def test_read_only_call_rides_out_simulator_500s(merchant_key: rsa.RSAPrivateKey) -> None:
    async with sim_rig(merchant_key) as r:
        await PRODUCTS[0].create(r, "ORD-Q-1")
        r.sim.inject_fault("error", count=2, path=Endpoint.QRIS_QUERY.path)
        result = await r.client.qris.query(original_partner_reference_no="ORD-Q-1")
        assert result.response.attempts == 3
        assert r.sim_requests_to(Endpoint.QRIS_QUERY.path) == 3
        assert len(r.sleeps.delays) == 2


async def test_read_only_retry_after_the_server_acted_succeeds(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    async with sim_rig(merchant_key) as r:
        await PRODUCTS[0].create(r, "ORD-Q-2")
        r.sim.inject_fault("drop", path=Endpoint.QRIS_QUERY.path)
        result = await r.client.qris.query(original_partner_reference_no="ORD-Q-2")
        assert result.latest_transaction_status == "01"
        # dropped (acted), same id again -> 409xx00 duplicate, then a fresh id -> answered
        ids = [rec.external_id for rec in r.faults.records_for(Endpoint.QRIS_QUERY.path)]
        assert len(ids) == 3
        assert ids[0] == ids[1] != ids[2]
        assert result.response.attempts == 3
        assert result.external_id == ids[2]
        assert len(r.sleeps.delays) == 1  # the switch to a fresh id costs no backoff


@pytest.mark.parametrize("money", PRODUCTS[2:], ids=lambda m: m.product.value)
async def test_reconcile_needs_only_the_error(
    money: Money, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with sim_rig(merchant_key) as r:
        r.faults.inject(Fault.drop(), path=money.path)
        with pytest.raises(OutcomeUnknownError) as info:
            await money.create(r, "ORD-CH-1")
        status = await reconcile(r.client, info.value)
        assert status.latest_transaction_status == "01"


async def test_clock_ten_minutes_ahead_is_refused_by_the_simulator(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    server = Clock()
    async with (
        sim_rig(merchant_key, clock=server) as r,
        AyolinxClient(
            r.sim.credentials(),
            base_url=r.sim.base_url,
            transport=r.faults,
            clock=lambda: server() + 600,
        ) as skewed,
    ):
        with pytest.raises(AuthenticationError) as info:
            await skewed.qris.generate(partner_reference_no="ORD-SKEW-1", amount=1000)
        assert info.value.path == TOKEN_PATH
        assert info.value.response_code is not None
        assert info.value.response_code.http_status == 401
        assert len(r.faults.records_for(TOKEN_PATH)) == 1
        assert r.sim_requests_to(Endpoint.QRIS_GENERATE.path) == 0


# -- reconcile's own rules (no network) ------------------------------------------------------


def _unknown(path: str, reference: str | None = "ORD-1") -> OutcomeUnknownError:
    return OutcomeUnknownError(
        path=path,
        external_id="1",
        partner_reference_no=reference,
        attempts=1,
        cause=ReadTimeoutError("x"),
    )


def test_product_for_path_covers_every_money_call() -> None:
    assert product_for_path(Endpoint.QRIS_GENERATE.path) is Product.QRIS
    assert product_for_path(Endpoint.QRIS_CANCEL.path) is Product.QRIS
    assert product_for_path(Endpoint.EWALLET_PAYMENT.path) is Product.EWALLET
    assert product_for_path(Endpoint.VA_CREATE.path) is Product.VIRTUAL_ACCOUNT
    assert product_for_path(Endpoint.RETAIL_CREATE.path) is Product.RETAIL
    assert product_for_path(Endpoint.PAYMENT_LINK_CREATE.path) is Product.PAYMENT_LINK
    assert product_for_path("/v1.0/unknown") is None


@pytest.mark.parametrize(
    ("target", "kwargs", "field"),
    [
        (_unknown(Endpoint.PAYMENT_LINK_CREATE.path), {}, "product"),
        (_unknown("/v1.0/custom"), {}, "product"),
        (_unknown(Endpoint.QRIS_GENERATE.path, reference=None), {}, "partner_reference_no"),
        (_unknown(Endpoint.VA_CREATE.path), {}, "channel"),
        (_unknown(Endpoint.RETAIL_CREATE.path), {}, "channel"),
        ("ORD-1", {}, "product"),
        ("ORD-1", {"product": "loans"}, "product"),
        ("  ", {"product": "qris"}, "reference"),
        (42, {"product": "qris"}, "error_or_reference"),
    ],
)
async def test_reconcile_refuses_what_it_cannot_answer(
    target: Any, kwargs: dict[str, Any], field: str, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with sim_rig(merchant_key) as r:
        with pytest.raises(ValidationError) as info:
            await reconcile(r.client, target, **kwargs)
        assert info.value.field == field
        assert r.sim.requests() == []  # nothing was sent


async def test_reconcile_accepts_an_explicit_product_for_an_unmodelled_path(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    async with sim_rig(merchant_key) as r:
        await PRODUCTS[0].create(r, "ORD-1")
        status = await reconcile(r.client, _unknown("/v1.0/custom"), product="qris")
        assert status.latest_transaction_status == "01"

"""Every product end to end against the in-process simulator: create → pay → signed callback
received → query shows ``00``; plus the documented response shapes and field checks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from ayolinx_async import AyolinxClient
from ayolinx_async._errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from ayolinx_async._wire import JAKARTA, format_timestamp
from ayolinx_async.simulator import DeliveryState, PaymentProduct, Simulator, parse_emv
from tests._fakes import FakeClock

from ._helpers import MerchantApp, callback_signature_ok, qr_body
from .conftest import CALLBACK_URL

pytestmark = pytest.mark.anyio

NOTIFY = {"type": "NOTIFICATION", "url": "http://merchant.test/notify/dana"}


async def _paid_and_notified(
    sim: Simulator, merchant_app: MerchantApp, reference: str, **pay: Any
) -> dict[str, Any]:
    """Pay, wait for delivery, check the callback's signature; return the callback body."""
    before = len(merchant_app.received)
    txn = await sim.pay(reference, **pay)
    assert txn.status == "00"
    await sim.drain(timeout=5)
    new = merchant_app.received[before:]
    assert len(new) == 1
    assert callback_signature_ok(sim.ayolinx_public_key, new[0])
    delivery = sim.deliveries(txn.reference_no)[-1]
    assert delivery.state is DeliveryState.DELIVERED
    body: dict[str, Any] = new[0].json
    return body


# -- QRIS ------------------------------------------------------------------------------------


async def test_qris_full_flow(sim: Simulator, merchant_app: MerchantApp) -> None:
    async with sim.client() as client:
        created = await client.request("/v1.0/qr/qr-mpm-generate", qr_body("QR-1", "15000.00"))
        assert created.response_code.value == "2004700"
        assert set(created.body) == {
            "responseCode",
            "responseMessage",
            "partnerReferenceNo",
            "qrContent",
            "expiredDate",
        }  # no Ayolinx reference in this answer (docs/protocol.md §17.1)
        emv = parse_emv(created.body["qrContent"])
        assert emv["54"] == "15000"
        assert emv["53"] == "360"
        assert "ID.CO.BANKNEOCOMMERCE.WWW" in emv["26"]
        assert created.body["expiredDate"].isdigit()

        query = {"originalPartnerReferenceNo": "QR-1", "additionalInfo": {"channel": "BNC_QRIS"}}
        before = await client.request("/v1.0/qr/qr-mpm-query", query, idempotent=True)
        assert before.response_code.value == "2005100"
        assert before.body["latestTransactionStatus"] == "01"
        assert "finishedTime" not in before.body

        callback = await _paid_and_notified(sim, merchant_app, "QR-1")
        assert merchant_app.received[-1].path == "/hooks/ayolinx"
        assert callback["callbackType"] == "QRIS"
        assert callback["originalPartnerReferenceNo"] == "QR-1"
        assert callback["originalReferenceNo"] == before.body["originalReferenceNo"]
        assert callback["latestTransactionStatus"] == "00"
        assert callback["amount"] == {"value": "15000.00", "currency": "IDR"}
        info = callback["additionalInfo"]
        assert info["channel"] == "BNC_QRIS"
        assert info["feeMoney"] == {"value": "105.00", "currency": "IDR"}
        assert {"bankCode", "bankName", "RRN", "paymentNtb", "settleDate", "userName"} <= set(info)

        after = await client.request("/v1.0/qr/qr-mpm-query", query, idempotent=True)
        assert after.body["latestTransactionStatus"] == "00"
        assert after.body["transactionStatusDesc"] == "Success"
        assert after.body["finishedTime"] == callback["finishedTime"]

        with pytest.raises(PermissionDeniedError) as info_paid:
            await client.request("/v1.0/qr/qr-mpm-cancel", {"originalPartnerReferenceNo": "QR-1"})
    assert info_paid.value.response_code is not None
    assert info_paid.value.response_code.value == "4037715"


async def test_qris_cancel_and_not_found(sim: Simulator, clock: FakeClock) -> None:
    async with sim.client() as client:
        await client.request("/v1.0/qr/qr-mpm-generate", qr_body("QR-C"))
        cancelled = await client.request(
            "/v1.0/qr/qr-mpm-cancel", {"originalPartnerReferenceNo": "QR-C", "reason": "changed"}
        )
        assert cancelled.response_code.value == "2007700"
        assert cancelled.body["latestTransactionStatus"] == "05"
        assert cancelled.body["cancelTime"] == format_timestamp(clock())
        with pytest.raises(NotFoundError) as missing:
            await client.request(
                "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "nope"}, idempotent=True
            )
        with pytest.raises(NotFoundError):  # right reference, other channel
            await client.request(
                "/v1.0/qr/qr-mpm-query",
                {"originalPartnerReferenceNo": "QR-C", "additionalInfo": {"channel": "X_QRIS"}},
                idempotent=True,
            )
    assert missing.value.response_code is not None
    assert missing.value.response_code.value == "4045101"
    assert sim.transaction("QR-C").status == "05"
    with pytest.raises(ValueError, match="cannot move"):
        await sim.pay("QR-C")


async def test_qris_valid_up_to_sets_expiry(sim: Simulator, clock: FakeClock) -> None:
    until = datetime.fromtimestamp(clock() + 600, JAKARTA).isoformat()
    async with sim.client() as client:
        created = await client.request("/v1.0/qr/qr-mpm-generate", qr_body("QR-V", validUpTo=until))
        with pytest.raises(BadRequestError) as past:
            await client.request(
                "/v1.0/qr/qr-mpm-generate", qr_body("QR-P", validUpTo=str(int(clock() - 1)))
            )
    assert created.body["expiredDate"] == str(int(clock() + 600))
    assert past.value.response_code is not None
    assert past.value.response_code.value == "4004701"
    assert past.value.message == "Invalid Field Format validUpTo"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"amount": {"value": "1.00", "currency": "IDR"}}, "4004702", "partnerReferenceNo"),
        ({"partnerReferenceNo": "R"}, "4004702", "amount"),
        (
            {"partnerReferenceNo": "R", "amount": {"value": 10000, "currency": "IDR"}},
            "4004701",
            "amount.value",
        ),
        (
            {"partnerReferenceNo": "R", "amount": {"value": "10000", "currency": "IDR"}},
            "4004701",
            "amount.value",
        ),
        (
            {"partnerReferenceNo": "R", "amount": {"value": "1.00", "currency": "USD"}},
            "4004701",
            "amount.currency",
        ),
        (
            {"partnerReferenceNo": "R", "amount": {"value": "1.00", "currency": "IDR"}},
            "4004702",
            "additionalInfo.channel",
        ),
        (
            {
                "partnerReferenceNo": "R",
                "amount": {"value": "1.00", "currency": "IDR"},
                "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
            },
            "4004701",
            "additionalInfo.channel",
        ),
        (
            {
                "partnerReferenceNo": "x" * 65,
                "amount": {"value": "1.00", "currency": "IDR"},
                "additionalInfo": {"channel": "BNC_QRIS"},
            },
            "4004701",
            "partnerReferenceNo",
        ),
        (
            {**qr_body("R"), "urlParams": [{"type": "NOTIFICATION", "url": "ftp://x"}]},
            "4004701",
            "urlParams[0].url",
        ),
        (
            {**qr_body("R"), "urlParams": [{"url": "https://m.test/cb"}]},
            "4004702",
            "urlParams[0].type",
        ),
    ],
)
async def test_qris_field_checks(
    sim: Simulator, body: dict[str, Any], code: str, message: str
) -> None:
    async with sim.client() as client:
        with pytest.raises(BadRequestError) as info:
            await client.request("/v1.0/qr/qr-mpm-generate", body)
    assert info.value.response_code is not None
    assert info.value.response_code.value == code
    assert info.value.message.endswith(" " + message)
    assert sim.transactions() == []


async def test_non_object_body_is_400xx00(sim: Simulator) -> None:
    async with sim.client() as client:
        with pytest.raises(BadRequestError) as info:
            await client.request("/v1.0/qr/qr-mpm-generate", b"[1,2]")
    assert info.value.response_code is not None
    assert info.value.response_code.value == "4004700"


# -- DANA ------------------------------------------------------------------------------------


def _dana_body(reference: str, clock: FakeClock) -> dict[str, Any]:
    return {
        "partnerReferenceNo": reference,
        "validUpTo": str(int(clock() + 3600)),  # Unix seconds as a string, as [T] sends it
        "amount": {"currency": "IDR", "value": "30000.00"},
        "urlParams": [{"type": "PAY_RETURN", "url": "https://shop.test/return"}, NOTIFY],
        "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
    }


async def test_dana_full_flow(sim: Simulator, merchant_app: MerchantApp, clock: FakeClock) -> None:
    async with sim.client() as client:
        created = await client.request(
            "/direct-debit/core/v1/debit/payment-host-to-host", _dana_body("DANA-1", clock)
        )
        assert created.response_code.value == "2005400"
        reference = created.body["referenceNo"]
        assert created.body["partnerReferenceNo"] == "DANA-1"
        assert created.body["webRedirectUrl"].endswith(f"/_simulator/checkout/{reference}")

        status_body = {
            "originalPartnerReferenceNo": "DANA-1",
            "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
        }
        with pytest.raises(BadRequestError) as no_channel:  # documented as required (§11.5)
            await client.request(
                "/direct-debit/core/v1/debit/status",
                {"originalPartnerReferenceNo": "DANA-1"},
                idempotent=True,
            )
        assert no_channel.value.response_code is not None
        assert no_channel.value.response_code.value == "4005502"

        callback = await _paid_and_notified(sim, merchant_app, reference)
        assert merchant_app.received[-1].path == "/notify/dana"  # the request's NOTIFICATION
        assert callback["originalPartnerReferenceNo"] == "DANA-1"
        assert callback["originalReferenceNo"] == reference
        assert callback["transactionStatusDesc"] == "Success"
        assert callback["additionalInfo"] == {"channel": "EMONEY_DANA_SNAP"}

        status = await client.request(
            "/direct-debit/core/v1/debit/status", status_body, idempotent=True
        )
    assert status.response_code.value == "2005500"
    assert status.body["latestTransactionStatus"] == "00"
    assert status.body["amount"] == {"value": "30000.00", "currency": "IDR"}


async def test_dana_failure_is_notified(
    sim: Simulator, merchant_app: MerchantApp, clock: FakeClock
) -> None:
    async with sim.client() as client:
        created = await client.request(
            "/direct-debit/core/v1/debit/payment-host-to-host", _dana_body("DANA-F", clock)
        )
    txn = await sim.fail(created.body["referenceNo"])
    await sim.drain(timeout=5)
    assert txn.status == "06"
    assert merchant_app.received[-1].json["latestTransactionStatus"] == "06"
    assert merchant_app.received[-1].json["transactionStatusDesc"] == "Failed"


# -- Virtual accounts -----------------------------------------------------------------------


def _va_body(trx_id: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerServiceId": "98829172",
        "customerNo": "000012345678",
        "virtualAccountNo": "",
        "virtualAccountName": "Budi Santoso",
        "trxId": trx_id,
        "virtualAccountTrxType": "C",
        "totalAmount": {"value": "11500.00", "currency": "IDR"},
        "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
    }
    body.update(extra)
    return body


async def test_virtual_account_non_snap_flow(sim: Simulator, merchant_app: MerchantApp) -> None:
    async with sim.client() as client:
        created = await client.request("/v1.0/transfer-va/create-va", _va_body("VA-1"))
        assert created.response_code.value == "2002700"
        data = created.body["virtualAccountData"]
        assert data["virtualAccountNo"] == "98829172000012345678"
        assert data["trxId"] == "VA-1"
        assert data["totalAmount"] == {"value": "11500.00", "currency": "IDR"}
        assert data["expiredDate"].endswith("+07:00")

        callback = await _paid_and_notified(sim, merchant_app, "VA-1")
        assert merchant_app.received[-1].path == "/hooks/ayolinx"  # back-office URL
        assert callback["originalPartnerReferenceNo"] == "VA-1"
        assert callback["latestTransactionStatus"] == "00"
        assert callback["additionalInfo"]["channel"] == "VIRTUAL_ACCOUNT_BNI"
        assert callback["additionalInfo"]["virtualAccountNo"] == "98829172000012345678"

        inquiry = await client.request(
            "/v1.0/transfer-va/inquiry-va",
            {
                "originalPartnerReferenceNo": "VA-1",
                "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
            },
            idempotent=True,
        )
        assert inquiry.response_code.value == "2003000"
        assert inquiry.body["latestTransactionStatus"] == "00"
        assert inquiry.body["originalReferenceNo"] == callback["originalReferenceNo"]
        assert inquiry.body["virtualAccountData"]["paidAmount"]["value"] == "11500.00"

        with pytest.raises(ConflictError) as dup:
            await client.request("/v1.0/transfer-va/create-va", _va_body("VA-1"))
        with pytest.raises(BadRequestError) as mismatch:
            await client.request(
                "/v1.0/transfer-va/create-va", _va_body("VA-2", virtualAccountNo="123")
            )
    assert dup.value.response_code is not None
    assert dup.value.response_code.value == "4092701"
    assert mismatch.value.message == "Invalid Field Format virtualAccountNo"


async def test_open_amount_virtual_account_is_paid_with_an_amount(sim: Simulator) -> None:
    body = _va_body("VA-O", virtualAccountTrxType="O")
    del body["totalAmount"]
    async with sim.client() as client:
        created = await client.request("/v1.0/transfer-va/create-va", body)
    assert "totalAmount" not in created.body["virtualAccountData"]
    with pytest.raises(ValueError, match="amount="):
        await sim.pay("VA-O")
    txn = await sim.pay("VA-O", amount="25000")
    assert txn.amount == Decimal("25000.00")
    with pytest.raises(ValueError, match="open-amount"):
        await sim.pay((await _created_qr(sim)).reference_no, amount="1.00")


async def _created_qr(sim: Simulator) -> Any:
    async with sim.client() as client:
        await client.request("/v1.0/qr/qr-mpm-generate", qr_body("QR-X"))
    return sim.transaction("QR-X")


async def test_closed_virtual_account_needs_total_amount(sim: Simulator) -> None:
    body = _va_body("VA-N")
    del body["totalAmount"]
    async with sim.client() as client:
        with pytest.raises(BadRequestError) as info:
            await client.request("/v1.0/transfer-va/create-va", body)
    assert info.value.message == "Invalid Mandatory Field totalAmount"


# -- Retail ----------------------------------------------------------------------------------


async def test_retail_full_flow(
    sim: Simulator, merchant_app: MerchantApp, clock: FakeClock
) -> None:
    body = {
        "partnerReferenceNo": "RT-1",
        "validUpTo": datetime.fromtimestamp(clock() + 86400, JAKARTA).isoformat(),
        "customerName": "Siti",
        "customerEmail": "siti@example.test",
        "customerPhone": "08123456789",
        "amount": {"currency": "IDR", "value": "30000.00"},
        "urlParams": [{"type": "NOTIFICATION", "url": "http://merchant.test/notify/retail"}],
        "additionalInfo": {"channel": "RETAIL_ALFAMIDI"},
    }
    async with sim.client() as client:
        created = await client.request("/v1.0/retail/create", body)
        assert created.response_code.value == "00"  # the retail exception (docs/protocol.md §17.8)
        assert set(created.body) == {
            "responseCode",
            "responseMessage",
            "partnerReferenceNo",
            "expiryDate",
            "vaNumber",
            "paymentUrl",
        }
        assert len(created.body["vaNumber"]) == 16

        callback = await _paid_and_notified(sim, merchant_app, "RT-1")
        assert list(callback)[:3] == ["amount", "originalReferenceNo", "latestTransactionStatus"]
        assert callback["originalPartnerReferenceNo"] == "RT-1"
        assert callback["additionalInfo"]["vaNumber"] == created.body["vaNumber"]

        query = await client.request(
            "/v1.0/retail/query",
            {
                "originalPartnerReferenceNo": "RT-1",
                "additionalInfo": {"channel": "RETAIL_ALFAMIDI"},
            },
            idempotent=True,
        )
        assert query.response_code.value == "00"
        assert query.body["latestTransactionStatus"] == "00"
        with pytest.raises(BadRequestError) as no_email:
            await client.request(
                "/v1.0/retail/create", {**body, "partnerReferenceNo": "RT-2", "customerEmail": ""}
            )
    assert no_email.value.response_code is not None
    assert no_email.value.response_code.value == "4009002"


# -- Payment link ----------------------------------------------------------------------------


def _link_body(reference: str, clock: FakeClock, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerReferenceNo": reference,
        "customerName": "test",
        "customerEmail": "test@surfin.sg",
        "customerPhoneNumber": "19999999999",
        "customerPhoneNumberCountryCode": "+62",
        "listItem": [
            {"name": "tea", "price": "20000", "qty": "2"},
            {"name": "cake", "price": "5000", "qty": "1"},
        ],
        "listPaymentChannel": ["BNC_QRIS", "VIRTUAL_ACCOUNT_BNI", "EMONEY_DANA_SNAP"],
        "description": "",
        "expiryTime": datetime.fromtimestamp(clock() + 7200, JAKARTA).isoformat(),
        "urlParams": [{"type": "NOTIFICATION", "url": "http://merchant.test/notify/link"}],
    }
    body.update(extra)
    return body


async def test_payment_link_full_flow(
    sim: Simulator, merchant_app: MerchantApp, clock: FakeClock
) -> None:
    async with sim.client() as client:
        created = await client.request("/v1.0/payment-link/create", _link_body("932281121", clock))
        with pytest.raises(ConflictError) as dup:
            await client.request("/v1.0/payment-link/create", _link_body("932281121", clock))
    assert created.response_code.value == "2000100"
    link_id = created.body["partnerReferenceNo"]
    assert link_id != "932281121"  # the link id, not ours (docs/protocol.md §17.10)
    assert created.body["paymentLink"].rsplit("/", 1)[-1] == link_id
    # The documented quirk: 7 h early, still labelled +07:00.
    assert (
        created.body["expiryDate"]
        == datetime.fromtimestamp(clock() + 7200 - 7 * 3600, JAKARTA).isoformat()
    )
    assert dup.value.response_code is not None
    assert dup.value.response_code.value == "4090101"

    txn = sim.transaction(link_id)
    assert txn.product is PaymentProduct.PAYMENT_LINK
    assert txn.amount == Decimal("45000")

    callback = await _paid_and_notified(sim, merchant_app, link_id, channel="VIRTUAL_ACCOUNT_BNI")
    assert merchant_app.received[-1].path == "/notify/link"
    assert callback["additionalInfo"]["plh"] == link_id
    assert callback["additionalInfo"]["channel"] == "VIRTUAL_ACCOUNT_BNI"
    assert callback["originalPartnerReferenceNo"] == "932281121"
    assert "callbackType" not in callback  # the VA format, not QRIS's
    assert callback["originalReferenceNo"] == sim.transaction(link_id).details["paymentReferenceNo"]
    assert sim.transaction(link_id).paid_channel == "VIRTUAL_ACCOUNT_BNI"


async def test_payment_link_paid_by_qris_uses_the_qris_format(
    sim: Simulator, merchant_app: MerchantApp, clock: FakeClock
) -> None:
    async with sim.client() as client:
        created = await client.request("/v1.0/payment-link/create", _link_body("L-Q", clock))
    link_id = created.body["partnerReferenceNo"]
    with pytest.raises(ValueError, match="not offered"):
        await sim.pay(link_id, channel="RETAIL_ALFAMART")
    callback = await _paid_and_notified(sim, merchant_app, link_id)  # default: first channel
    assert callback["callbackType"] == "QRIS"
    assert callback["additionalInfo"]["plh"] == link_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"listItem": []}, "Invalid Mandatory Field listItem"),
        (
            {"listItem": [{"name": "a", "price": "20000.50", "qty": "1"}]},
            "Invalid Field Format listItem[0].price",
        ),
        (
            {"listItem": [{"name": "a", "price": "1", "qty": "0"}]},
            "Invalid Field Format listItem[0].qty",
        ),
        ({"listItem": [{"price": "1", "qty": "1"}]}, "Invalid Mandatory Field listItem[0].name"),
        ({"listPaymentChannel": "BNC_QRIS"}, "Invalid Field Format listPaymentChannel"),
        (
            {"customerPhoneNumberCountryCode": "62"},
            "Invalid Field Format customerPhoneNumberCountryCode",
        ),
        ({"expiryTime": "2025-08-22 18:30"}, "Invalid Field Format expiryTime"),
    ],
)
async def test_payment_link_field_checks(
    sim: Simulator, clock: FakeClock, change: dict[str, Any], message: str
) -> None:
    async with sim.client() as client:
        with pytest.raises(BadRequestError) as info:
            await client.request("/v1.0/payment-link/create", _link_body("L-F", clock, **change))
    assert info.value.message == message


# -- a second client on the same simulator ----------------------------------------------------


async def test_two_clients_share_one_simulator(sim: Simulator) -> None:
    async with sim.client() as first, sim.client() as second:
        await first.request("/v1.0/qr/qr-mpm-generate", qr_body("SHARED"))
        seen = await second.request(
            "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "SHARED"}, idempotent=True
        )
    assert seen.body["latestTransactionStatus"] == "01"
    assert isinstance(first, AyolinxClient)
    assert CALLBACK_URL.startswith("http://merchant.test")

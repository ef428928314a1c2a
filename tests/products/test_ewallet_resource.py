"""``client.ewallet``: DANA payment URL and status on the wire, parsing and validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ayolinx_async import Credentials, ValidationError
from ayolinx_async._resources import EwalletResource
from ayolinx_async.models import (
    EwalletPaymentRequest,
    EwalletPaymentResponse,
    EwalletStatusResponse,
    TransactionStatus,
    ValidUpToFormat,
)

from ._wire import STATUS_CODES, api_response, assert_wire, jakarta, make_client

pytestmark = pytest.mark.anyio

PAYMENT_PATH = "/direct-debit/core/v1/debit/payment-host-to-host"
STATUS_PATH = "/direct-debit/core/v1/debit/status"
CREATED = {
    "responseCode": "2005400",
    "responseMessage": "Successful",
    "webRedirectUrl": "https://m.dana.id/m/portal/cashier/checkout?bizNo=2025",
    "referenceNo": "2025050312345",
    "partnerReferenceNo": "fd3f5af0-af57-4513-95a8-77df45721edw",
}
EXPIRY = datetime.fromtimestamp(1746249942, UTC)


async def test_create_payment_spec_example_on_the_wire(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        result = await client.ewallet.create_payment(
            partner_reference_no="fd3f5af0-af57-4513-95a8-77df45721edw",
            amount="30",
            valid_up_to=EXPIRY,
            return_url="https://merchant.example/return",
            notification_url="https://merchant.example/ayolinx/notify",
        )
    # The docs/protocol.md §17.4 example, including validUpTo as a Unix-seconds string.
    assert_wire(
        wire.last,
        path=PAYMENT_PATH,
        body={
            "partnerReferenceNo": "fd3f5af0-af57-4513-95a8-77df45721edw",
            "validUpTo": "1746249942",
            "amount": {"value": "30.00", "currency": "IDR"},
            "urlParams": [
                {"url": "https://merchant.example/return", "type": "PAY_RETURN"},
                {"url": "https://merchant.example/ayolinx/notify", "type": "NOTIFICATION"},
            ],
            "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
        },
    )
    assert isinstance(result, EwalletPaymentResponse)
    assert result.web_redirect_url == CREATED["webRedirectUrl"]
    assert result.reference_no == "2025050312345"


async def test_valid_up_to_iso_switch_and_sub_merchant(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        await client.ewallet.create_payment(
            partner_reference_no="P-1",
            amount=15000,
            valid_up_to=EXPIRY,
            valid_up_to_format=ValidUpToFormat.ISO_8601,
            sub_merchant_id="216620000000000000000",
        )
    assert_wire(
        wire.last,
        path=PAYMENT_PATH,
        body={
            "partnerReferenceNo": "P-1",
            "validUpTo": "2025-05-03T12:25:42+07:00",
            "amount": {"value": "15000.00", "currency": "IDR"},
            "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
            "subMerchantId": "216620000000000000000",
        },
    )


async def test_resource_level_valid_up_to_format(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        iso = EwalletResource(client, valid_up_to_format=ValidUpToFormat.ISO_8601)
        await iso.create_payment(partner_reference_no="P-2", amount=1, valid_up_to=EXPIRY)
    body = EwalletPaymentRequest(partner_reference_no="x", amount=1).to_wire()
    assert "validUpTo" not in body
    assert json.loads(wire.last.content)["validUpTo"] == "2025-05-03T12:25:42+07:00"


def test_payment_response_keeps_unknown_fields() -> None:
    result = EwalletPaymentResponse.from_response(
        api_response({"responseCode": "2005400", "responseMessage": "OK", "webRedirectUrl": "u"})
    )
    assert result.web_redirect_url == "u"
    assert result.partner_reference_no is None
    assert result.extra == {}


async def test_inquire_status_documented_example(credentials: Credentials) -> None:
    client, wire = make_client(
        credentials,
        {
            "responseCode": "2005500",
            "responseMessage": "Successful",
            "originalPartnerReferenceNo": "fd3f5af0-af57-4513-95a8-77dfds3473",
            "originalReferenceNo": "20250503111212800110166944801931623",
            "latestTransactionStatus": "00",
            "transactionStatusDesc": "SUCCESS",
            "amount": {"currency": "IDR", "value": "30.00"},
            "paidTime": "1746249000",
            "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
        },
    )
    async with client:
        result = await client.ewallet.inquire_status(
            original_partner_reference_no="fd3f5af0-af57-4513-95a8-77dfds3473"
        )
    assert_wire(
        wire.last,
        path=STATUS_PATH,
        body={
            "originalPartnerReferenceNo": "fd3f5af0-af57-4513-95a8-77dfds3473",
            "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
        },
    )
    assert isinstance(result, EwalletStatusResponse)
    assert result.latest_transaction_status is TransactionStatus.SUCCESS
    assert result.transaction_status_desc == "SUCCESS"
    assert result.paid_time == datetime.fromtimestamp(1746249000, UTC)
    assert result.amount is not None
    assert str(result.amount.value) == "30.00"


@pytest.mark.parametrize("code", STATUS_CODES)
async def test_inquire_status_parses_every_status(credentials: Credentials, code: str) -> None:
    client, _ = make_client(
        credentials,
        {"responseCode": "2005500", "responseMessage": "OK", "latestTransactionStatus": code},
    )
    async with client:
        result = await client.ewallet.inquire_status(original_partner_reference_no="P-1")
    assert result.latest_transaction_status == code
    assert result.latest_transaction_status is not None
    assert result.latest_transaction_status.is_known == (code != "99")


GOOD: dict[str, Any] = {"partner_reference_no": "P-1", "amount": "30"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"partner_reference_no": None}, "partner_reference_no"),
        ({"amount": None}, "amount"),
        ({"partner_reference_no": b"P-1"}, "partner_reference_no"),
        ({"partner_reference_no": "P" * 65}, "partner_reference_no"),
        ({"amount": "-30"}, "amount.value"),
        ({"amount": "0.00"}, "amount.value"),
        ({"amount": "30.005"}, "amount.value"),
        ({"amount": True}, "amount.value"),
        ({"valid_up_to": datetime(2025, 5, 3, 12, 0)}, "valid_up_to"),
        ({"valid_up_to": 1746249942}, "valid_up_to"),
        ({"valid_up_to": jakarta(2025, 5, 3), "valid_up_to_format": "iso"}, "valid_up_to_format"),
        ({"return_url": "not a url"}, "url_params[0].url"),
        ({"sub_merchant_id": "S" * 33}, "sub_merchant_id"),
    ],
)
async def test_create_payment_rejects_bad_input(
    credentials: Credentials, changes: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.ewallet.create_payment(**{**GOOD, **changes})
    assert info.value.field == field
    assert wire.total_requests == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "original_partner_reference_no"),
        ({"original_partner_reference_no": 42}, "original_partner_reference_no"),
        ({"original_partner_reference_no": "x" * 65}, "original_partner_reference_no"),
        ({"original_partner_reference_no": "x", "additional_info": [1]}, "additional_info"),
    ],
)
async def test_inquire_status_rejects_bad_input(
    credentials: Credentials, kwargs: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.ewallet.inquire_status(**kwargs)
    assert info.value.field == field
    assert wire.total_requests == 0

"""``client.payment_links``: the documented example end to end, link id vs our reference."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from ayolinx_async import Credentials, ValidationError
from ayolinx_async.models import (
    Channel,
    PaymentLinkCreateRequest,
    PaymentLinkCreateResponse,
    PaymentLinkItem,
)

from ._wire import api_response, assert_wire, jakarta, make_client

pytestmark = pytest.mark.anyio

CREATE_PATH = "/v1.0/payment-link/create"
# docs/protocol.md §17.10, verbatim.
DOC_REQUEST = {
    "partnerReferenceNo": "932281121132128",
    "customerName": "test",
    "customerEmail": "test@surfin.sg",
    "customerPhoneNumber": "19999999999",
    "customerPhoneNumberCountryCode": "+62",
    "listItem": [{"name": "test", "price": "20000", "qty": "1"}],
    "listPaymentChannel": ["EMONEY_DANA_SNAP", "BNC_QRIS", "VIRTUAL_ACCOUNT_BNI"],
    "description": "",
    "expiryTime": "2025-08-22T18:30:00+07:00",
    "urlParams": [{"type": "NOTIFICATION", "url": "https://www.ayolinx.id"}],
}
DOC_RESPONSE = {
    "responseCode": "2000100",
    "responseMessage": "Successful",
    "paymentLink": "https://payment-new-production.ayolinx.id/4DrzTTeCn9Z",
    "partnerReferenceNo": "4DrzTTeCn9Z",
    "expiryDate": "2025-08-22T11:30:00+07:00",
}


async def test_create_doc_example_end_to_end(credentials: Credentials) -> None:
    client, wire = make_client(credentials, DOC_RESPONSE)
    async with client:
        result = await client.payment_links.create(
            partner_reference_no="932281121132128",
            customer_name="test",
            customer_email="test@surfin.sg",
            customer_phone_number="19999999999",
            customer_phone_number_country_code="+62",
            items=[PaymentLinkItem(name="test", price=Decimal("20000.00"), quantity=1)],
            payment_channels=[Channel.EMONEY_DANA_SNAP, "BNC_QRIS", "VIRTUAL_ACCOUNT_BNI"],
            expiry_time=jakarta(2025, 8, 22, 18, 30),
            notification_url="https://www.ayolinx.id",
        )
    sent = json.loads(wire.last.content)
    assert sent == DOC_REQUEST  # same JSON object as the documented request
    ordered = dict(
        DOC_REQUEST, urlParams=[{"url": "https://www.ayolinx.id", "type": "NOTIFICATION"}]
    )
    assert_wire(wire.last, path=CREATE_PATH, body=ordered)
    assert result.response_code.value == "2000100"
    assert result.payment_link == DOC_RESPONSE["paymentLink"]
    # The response's partnerReferenceNo is the link id, not ours (docs/protocol.md §17.10).
    assert result.link_id == "4DrzTTeCn9Z"
    assert result.partner_reference_no == "932281121132128"
    assert result.expiry_date == jakarta(2025, 8, 22, 11, 30)
    assert result.requested_expiry_time == jakarta(2025, 8, 22, 18, 30)


def test_link_id_falls_back_to_the_url_segment() -> None:
    body = {k: v for k, v in DOC_RESPONSE.items() if k != "partnerReferenceNo"}
    result = PaymentLinkCreateResponse.from_response(api_response(body))
    assert result.link_id == "4DrzTTeCn9Z"
    assert result.partner_reference_no is None


async def test_minimal_link_and_default_country_code(credentials: Credentials) -> None:
    client, wire = make_client(credentials, DOC_RESPONSE)
    request = PaymentLinkCreateRequest(
        partner_reference_no="PL-1",
        customer_phone_number="81234567890",
        items=[
            PaymentLinkItem(name="Kopi", price=18000, quantity=2),
            PaymentLinkItem(name="Roti", price="7000"),
        ],
    )
    assert request.total == Decimal(43000)
    async with client:
        await client.payment_links.create(request)
    assert_wire(
        wire.last,
        path=CREATE_PATH,
        body={
            "partnerReferenceNo": "PL-1",
            "customerPhoneNumber": "81234567890",
            "customerPhoneNumberCountryCode": "+62",
            "listItem": [
                {"name": "Kopi", "price": "18000", "qty": "2"},
                {"name": "Roti", "price": "7000", "qty": "1"},
            ],
            "description": "",
        },
    )


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PaymentLinkItem(name="x", price="20000.50"), "price"),
        (lambda: PaymentLinkItem(name="x", price="-1"), "price"),
        (lambda: PaymentLinkItem(name="x", price=0), "price"),
        (lambda: PaymentLinkItem(name="x", price=1, quantity=0), "quantity"),
        (lambda: PaymentLinkItem(name="x", price=1, quantity="1"), "quantity"),  # type: ignore[arg-type]
        (lambda: PaymentLinkItem(name="", price=1), "name"),
    ],
)
def test_items_reject_bad_values(make: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make()
    assert info.value.field == field


GOOD: dict[str, Any] = {
    "partner_reference_no": "PL-1",
    "items": [PaymentLinkItem(name="Kopi", price=18000)],
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"partner_reference_no": None}, "partner_reference_no"),
        ({"items": None}, "items"),
        ({"items": []}, "items"),
        ({"items": [{"name": "Kopi", "price": "1"}]}, "items[0]"),
        ({"partner_reference_no": 932281121132128}, "partner_reference_no"),
        ({"partner_reference_no": "P" * 65}, "partner_reference_no"),
        ({"customer_email": "nobody"}, "customer_email"),
        ({"customer_phone_number": "+6281"}, "customer_phone_number"),
        ({"customer_phone_number_country_code": "62"}, "customer_phone_number_country_code"),
        ({"payment_channels": "BNC_QRIS"}, "payment_channels"),
        ({"payment_channels": [""]}, "payment_channels[0]"),
        ({"description": None, "expiry_time": datetime(2025, 8, 22, 18, 30)}, "expiry_time"),
        ({"description": 7}, "description"),
        ({"description": "d" * 256}, "description"),
        ({"notification_url": "www.ayolinx.id"}, "url_params[0].url"),
    ],
)
async def test_create_rejects_bad_input(
    credentials: Credentials, changes: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, DOC_RESPONSE)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.payment_links.create(**{**GOOD, **changes})
    assert info.value.field == field
    assert wire.total_requests == 0

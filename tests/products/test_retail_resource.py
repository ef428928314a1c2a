"""``client.retail``: the documented request, the ``"00"`` success quirk, parsing, validation."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from ayolinx_async import BadRequestError, Credentials, ValidationError
from ayolinx_async.models import (
    Channel,
    RetailCreateResponse,
    RetailQueryResponse,
    UrlParam,
    ValidUpToFormat,
)

from ._wire import (
    STATUS_CODES,
    api_response,
    assert_wire,
    jakarta,
    json_response,
    make_client,
)

pytestmark = pytest.mark.anyio

CREATE_PATH = "/v1.0/retail/create"
QUERY_PATH = "/v1.0/retail/query"
CREATED = {
    "responseCode": "00",
    "responseMessage": "Successful",
    "partnerReferenceNo": "ei29dh29ee2",
    "expiryDate": "2025-01-11T23:59:59+07:00",
    "vaNumber": "8880012345678",
    "paymentUrl": "https://payment.ayolinx.id/retail/ei29dh29ee2",
}
GOOD: dict[str, Any] = {
    "partner_reference_no": "ei29dh29ee2",
    "amount": "30000",
    "channel": "RETAIL_ALFAMIDI",
    "valid_up_to": jakarta(2025, 1, 11, 23, 59).replace(second=59),
    "customer_name": "Siti",
    "customer_email": "siti@example.co.id",
}


async def test_create_on_the_wire_and_the_00_success_code(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        result = await client.retail.create(
            **GOOD,
            customer_phone="081234567890",
            notification_url="https://merchant.example/retail/notify",
        )
    assert_wire(
        wire.last,
        path=CREATE_PATH,
        body={
            "partnerReferenceNo": "ei29dh29ee2",
            "validUpTo": "2025-01-11T23:59:59+07:00",
            "customerName": "Siti",
            "customerEmail": "siti@example.co.id",
            "customerPhone": "081234567890",
            "amount": {"value": "30000.00", "currency": "IDR"},
            "urlParams": [
                {"url": "https://merchant.example/retail/notify", "type": "NOTIFICATION"}
            ],
            "additionalInfo": {"channel": "RETAIL_ALFAMIDI"},
        },
    )
    assert isinstance(result, RetailCreateResponse)
    # Retail's two-digit success code is kept verbatim (docs/protocol.md §12.1, §19.11).
    assert result.response_code.value == "00"
    assert result.response_code.http_status is None
    assert result.va_number == "8880012345678"
    assert result.payment_url == CREATED["paymentUrl"]
    assert result.expiry_date == jakarta(2025, 1, 11, 23, 59).replace(second=59)


async def test_create_unix_seconds_switch(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        await client.retail.create(**GOOD, valid_up_to_format=ValidUpToFormat.UNIX_SECONDS)
    assert json.loads(wire.last.content)["validUpTo"] == str(int(GOOD["valid_up_to"].timestamp()))


async def test_a_non_success_retail_code_raises(credentials: Credentials) -> None:
    client, wire = make_client(
        credentials,
        lambda request: json_response(400, {"responseCode": "4000002", "responseMessage": "Bad"}),
    )
    async with client:
        with pytest.raises(BadRequestError) as info:
            await client.retail.create(**GOOD)
    assert info.value.response_code is not None
    assert info.value.response_code.value == "4000002"
    assert len(wire.service_requests) == 1


def test_create_response_keeps_unknown_fields() -> None:
    result = RetailCreateResponse.from_response(api_response(dict(CREATED, storeHint="any")))
    assert result.extra == {"storeHint": "any"}
    assert result.partner_reference_no == "ei29dh29ee2"


async def test_query_on_the_wire(credentials: Credentials) -> None:
    client, wire = make_client(
        credentials,
        {
            "responseCode": "2000000",
            "responseMessage": "Successful",
            "originalPartnerReferenceNo": "ei29dh29ee2",
            "originalReferenceNo": "20250110111212800110166944801931623",
            "latestTransactionStatus": "03",
            "amount": {"currency": "IDR", "value": "30000.00"},
            "additionalInfo": {"channel": "RETAIL_ALFAMART"},
        },
    )
    async with client:
        result = await client.retail.query(
            original_partner_reference_no="ei29dh29ee2", channel=Channel.RETAIL_ALFAMART
        )
    assert_wire(
        wire.last,
        path=QUERY_PATH,
        body={
            "originalPartnerReferenceNo": "ei29dh29ee2",
            "additionalInfo": {"channel": "RETAIL_ALFAMART"},
        },
    )
    assert isinstance(result, RetailQueryResponse)
    assert result.latest_transaction_status == "03"
    assert result.channel is Channel.RETAIL_ALFAMART


@pytest.mark.parametrize("code", STATUS_CODES)
async def test_query_parses_every_status(credentials: Credentials, code: str) -> None:
    client, _ = make_client(
        credentials,
        {"responseCode": "00", "responseMessage": "OK", "latestTransactionStatus": code},
    )
    async with client:
        result = await client.retail.query(
            original_partner_reference_no="R-1", channel="RETAIL_PEGADAIAN"
        )
    assert result.latest_transaction_status == code
    assert result.is_paid == (code == "00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"partner_reference_no": None}, "partner_reference_no"),
        ({"amount": None}, "amount"),
        ({"channel": None}, "channel"),
        ({"valid_up_to": None}, "valid_up_to"),
        ({"customer_name": None}, "customer_name"),
        ({"customer_email": None}, "customer_email"),
        ({"customer_email": "siti"}, "customer_email"),
        ({"customer_name": 5}, "customer_name"),
        ({"customer_name": "line\nbreak"}, "customer_name"),
        ({"customer_phone": "x" * 31}, "customer_phone"),
        ({"partner_reference_no": "R" * 65}, "partner_reference_no"),
        ({"amount": "-10"}, "amount.value"),
        ({"amount": "10.123"}, "amount.value"),
        ({"valid_up_to": datetime(2025, 1, 11, 23, 59)}, "valid_up_to"),
        ({"channel": "VIRTUAL_ACCOUNT_BNI"}, "channel"),
        ({"url_params": [{"url": "https://x.example", "type": "NOTIFICATION"}]}, "url_params[0]"),
    ],
)
async def test_create_rejects_bad_input(
    credentials: Credentials, changes: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.retail.create(**{**GOOD, **changes})
    assert info.value.field == field
    assert wire.total_requests == 0


async def test_new_retail_channels_pass_through(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        await client.retail.create(
            **{**GOOD, "channel": "RETAIL_INDOMARET"},
            url_params=[UrlParam.notification("https://x.example/n")],
        )
    assert json.loads(wire.last.content)["additionalInfo"] == {"channel": "RETAIL_INDOMARET"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "RETAIL_DANDAN"}, "original_partner_reference_no"),
        ({"original_partner_reference_no": "R-1"}, "channel"),
        (
            {"original_partner_reference_no": ["R-1"], "channel": "RETAIL_DANDAN"},
            "original_partner_reference_no",
        ),
        (
            {"original_partner_reference_no": "R" * 65, "channel": "RETAIL_DANDAN"},
            "original_partner_reference_no",
        ),
    ],
)
async def test_query_rejects_bad_input(
    credentials: Credentials, kwargs: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.retail.query(**kwargs)
    assert info.value.field == field
    assert wire.total_requests == 0

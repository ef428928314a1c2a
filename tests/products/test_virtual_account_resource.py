"""``client.virtual_accounts``: numbering modes, partnerServiceId defaults, amounts, parsing."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from ayolinx_async import Credentials, Environment, ValidationError
from ayolinx_async._resources import VirtualAccountsResource
from ayolinx_async.models import (
    Amount,
    VirtualAccountCreateRequest,
    VirtualAccountCreateResponse,
    VirtualAccountInquiryResponse,
    VirtualAccountMode,
    VirtualAccountTrxType,
)

from ._wire import STATUS_CODES, api_response, assert_wire, jakarta, make_client

pytestmark = pytest.mark.anyio

CREATE_PATH = "/v1.0/transfer-va/create-va"
INQUIRY_PATH = "/v1.0/transfer-va/inquiry-va"
CREATED = {
    "responseCode": "2002700",
    "responseMessage": "Successful",
    "virtualAccountData": {
        "partnerServiceId": "98829172",
        "customerNo": "12345678",
        "virtualAccountNo": "9882917212345678",
        "virtualAccountName": "Budi",
        "trxId": "INV-1",
        "totalAmount": {"value": "11500.00", "currency": "IDR"},
        "virtualAccountTrxType": "C",
        "expiredDate": "2025-01-02T10:00:00+07:00",
        "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
        "bankNote": "new",
    },
}


async def test_create_ayolinx_generated_closed_bni(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        result = await client.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_BNI",
            trx_id="INV-1",
            customer_no="12345678",
            virtual_account_name="Budi",
            total_amount="11500",
            virtual_account_email="budi@example.co.id",
            virtual_account_phone="+6281234567890",
            expired_date=jakarta(2025, 1, 2, 10),
        )
    assert_wire(
        wire.last,
        path=CREATE_PATH,
        body={
            "partnerServiceId": "98829172",  # BNI sandbox default (docs/protocol.md §16)
            "customerNo": "12345678",
            "virtualAccountNo": "",  # Ayolinx generates the number
            "virtualAccountName": "Budi",
            "virtualAccountEmail": "budi@example.co.id",
            "virtualAccountPhone": "+6281234567890",
            "trxId": "INV-1",
            "virtualAccountTrxType": "C",
            "totalAmount": {"value": "11500.00", "currency": "IDR"},
            "expiredDate": "2025-01-02T10:00:00+07:00",
            "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
        },
    )
    assert isinstance(result, VirtualAccountCreateResponse)
    assert result.virtual_account_no == "9882917212345678"
    assert result.trx_id == "INV-1"
    assert result.expired_date == jakarta(2025, 1, 2, 10)
    data = result.virtual_account_data
    assert data is not None
    assert data.total_amount == Amount(value=Decimal("11500.00"))
    assert data.virtual_account_trx_type is VirtualAccountTrxType.CLOSED
    assert data.extra == {"bankNote": "new"}


async def test_create_merchant_generated_open_mandiri_padded(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        await client.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_MANDIRI",
            trx_id="TOPUP-1",
            customer_no="01699548",
            virtual_account_name="Toko",
            trx_type="O",
            mode=VirtualAccountMode.MERCHANT_GENERATED,
            pad_partner_service_id=True,
        )
    assert_wire(
        wire.last,
        path=CREATE_PATH,
        body={
            "partnerServiceId": "   87319",
            "customerNo": "01699548",
            "virtualAccountNo": "   8731901699548",
            "virtualAccountName": "Toko",
            "trxId": "TOPUP-1",
            "virtualAccountTrxType": "O",
            "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_MANDIRI"},
        },
    )


async def test_create_with_explicit_number_and_override(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        await client.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_BRI",
            partner_service_id="15573",
            trx_id="INV-2",
            customer_no="777",
            virtual_account_no="15573777",
            virtual_account_name="Ani",
            total_amount=5000,
        )
    body = json.loads(wire.last.content)
    assert body["partnerServiceId"] == "15573"
    assert body["virtualAccountNo"] == "15573777"


@pytest.mark.parametrize(
    ("channel", "sandbox", "production"),
    [
        ("VIRTUAL_ACCOUNT_BNI", "98829172", "98828222"),
        ("VIRTUAL_ACCOUNT_CIMB", "2056", "2056"),
        ("VIRTUAL_ACCOUNT_MANDIRI", "87319", "87319"),
        ("VIRTUAL_ACCOUNT_BRI", "15574", "15574"),
    ],
)
async def test_partner_service_id_defaults_per_environment(
    credentials: Credentials, channel: str, sandbox: str, production: str
) -> None:
    for environment, expected in (
        (Environment.SANDBOX, sandbox),
        (Environment.PRODUCTION, production),
    ):
        client, wire = make_client(credentials, CREATED, environment=environment)
        async with client:
            await client.virtual_accounts.create(
                channel=channel,
                trx_id="T",
                customer_no="1",
                virtual_account_name="N",
                total_amount=1,
            )
        assert json.loads(wire.last.content)["partnerServiceId"] == expected
        assert wire.last.url.host == environment.base_url.removeprefix("https://")


async def test_custom_base_url_uses_sandbox_values(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED, base_url="http://127.0.0.1:8080")
    async with client:
        await client.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_BNI",
            trx_id="T",
            customer_no="1",
            virtual_account_name="N",
            total_amount=1,
        )
    assert json.loads(wire.last.content)["partnerServiceId"] == "98829172"


async def test_resource_level_overrides(credentials: Credentials) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        resource = VirtualAccountsResource(
            client,
            partner_service_ids={"VIRTUAL_ACCOUNT_BCA": "39999"},
            pad_partner_service_id=True,
        )
        assert resource.partner_service_id_for("VIRTUAL_ACCOUNT_BCA") == "39999"
        await resource.create(
            channel="VIRTUAL_ACCOUNT_BCA",
            trx_id="T",
            customer_no="1",
            virtual_account_name="N",
            total_amount=1,
        )
    assert json.loads(wire.last.content)["partnerServiceId"] == "   39999"


async def test_inquire_on_the_wire(credentials: Credentials) -> None:
    client, wire = make_client(
        credentials,
        {
            "responseCode": "2003000",
            "responseMessage": "Successful",
            "originalPartnerReferenceNo": "INV-1",
            "originalReferenceNo": "AYO-VA-1",
            "latestTransactionStatus": "01",
            "virtualAccountData": {"virtualAccountNo": "9882917212345678", "trxId": "INV-1"},
        },
    )
    async with client:
        result = await client.virtual_accounts.inquire(
            original_partner_reference_no="INV-1", channel="VIRTUAL_ACCOUNT_BNI"
        )
    assert_wire(
        wire.last,
        path=INQUIRY_PATH,
        body={
            "originalPartnerReferenceNo": "INV-1",
            "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
        },
    )
    assert isinstance(result, VirtualAccountInquiryResponse)
    assert result.latest_transaction_status == "01"
    assert not result.is_final
    assert result.virtual_account_data is not None
    assert result.virtual_account_data.virtual_account_no == "9882917212345678"
    assert "virtualAccountData" not in result.extra


@pytest.mark.parametrize("code", STATUS_CODES)
async def test_inquire_parses_every_status(credentials: Credentials, code: str) -> None:
    client, _ = make_client(
        credentials,
        {"responseCode": "2003000", "responseMessage": "OK", "latestTransactionStatus": code},
    )
    async with client:
        result = await client.virtual_accounts.inquire(
            original_partner_reference_no="INV-1", channel="VIRTUAL_ACCOUNT_CIMB"
        )
    assert result.latest_transaction_status == code
    assert result.virtual_account_data is None


def test_create_response_without_data_is_tolerated() -> None:
    result = VirtualAccountCreateResponse.from_response(
        api_response({"responseCode": "2002700", "responseMessage": "OK"})
    )
    assert result.virtual_account_no is None
    assert result.trx_id is None


GOOD: dict[str, Any] = {
    "channel": "VIRTUAL_ACCOUNT_BNI",
    "trx_id": "INV-1",
    "customer_no": "12345678",
    "virtual_account_name": "Budi",
    "total_amount": "11500",
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": None}, "channel"),
        ({"trx_id": None}, "trx_id"),
        ({"customer_no": None}, "customer_no"),
        ({"virtual_account_name": None}, "virtual_account_name"),
        ({"total_amount": None}, "total_amount"),  # closed needs an amount
        ({"trx_type": "O"}, "total_amount"),  # open must not have one
        ({"trx_id": 1}, "trx_id"),
        ({"trx_id": "T" * 65}, "trx_id"),
        ({"customer_no": "12ab"}, "customer_no"),
        ({"customer_no": "1" * 21}, "customer_no"),
        ({"virtual_account_name": "N" * 256}, "virtual_account_name"),
        ({"virtual_account_email": "not-an-email"}, "virtual_account_email"),
        ({"virtual_account_email": "a@b.co" + "m" * 250}, "virtual_account_email"),
        ({"virtual_account_phone": "1" * 31}, "virtual_account_phone"),
        ({"virtual_account_phone": "0812-345"}, "virtual_account_phone"),
        ({"virtual_account_no": "1" * 29}, "virtual_account_no"),
        (
            {"virtual_account_no": "123", "mode": VirtualAccountMode.AYOLINX_GENERATED},
            "virtual_account_no",
        ),
        (
            {
                "mode": VirtualAccountMode.MERCHANT_GENERATED,
                "customer_no": "9" * 20,
                "partner_service_id": "123456789",
            },
            "partner_service_id",
        ),
        ({"mode": "merchant"}, "mode"),
        ({"total_amount": "-1"}, "total_amount.value"),
        ({"total_amount": "0"}, "total_amount.value"),
        ({"total_amount": "1.001"}, "total_amount.value"),
        ({"expired_date": datetime(2025, 1, 2, 10)}, "expired_date"),
        ({"channel": "BNC_QRIS"}, "channel"),
        ({"channel": "VIRTUAL_ACCOUNT_BCA"}, "partner_service_id"),  # no known default
        ({"trx_type": "CO"}, "trx_type"),
    ],
)
async def test_create_rejects_bad_input(
    credentials: Credentials, changes: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.virtual_accounts.create(**{**GOOD, **changes})
    assert info.value.field == field
    assert wire.total_requests == 0


async def test_unknown_channel_and_trx_type_pass_with_explicit_prefix(
    credentials: Credentials,
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        await client.virtual_accounts.create(
            **{**GOOD, "channel": "VIRTUAL_ACCOUNT_NEWBANK", "trx_type": "V"},
            partner_service_id="4444",
        )
    body = json.loads(wire.last.content)
    assert body["additionalInfo"] == {"channel": "VIRTUAL_ACCOUNT_NEWBANK"}
    assert body["virtualAccountTrxType"] == "V"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "VIRTUAL_ACCOUNT_BNI"}, "original_partner_reference_no"),
        ({"original_partner_reference_no": "INV-1"}, "channel"),
        (
            {"original_partner_reference_no": "I" * 65, "channel": "VIRTUAL_ACCOUNT_BNI"},
            "original_partner_reference_no",
        ),
        ({"original_partner_reference_no": "INV-1", "channel": "RETAIL_ALFAMIDI"}, "channel"),
    ],
)
async def test_inquire_rejects_bad_input(
    credentials: Credentials, kwargs: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, CREATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.virtual_accounts.inquire(**kwargs)
    assert info.value.field == field
    assert wire.total_requests == 0


def test_request_model_composes_the_snap_number() -> None:
    request = VirtualAccountCreateRequest(
        partner_service_id="2056",
        customer_no="000123",
        virtual_account_name="N",
        trx_id="T",
        channel="VIRTUAL_ACCOUNT_CIMB",
        total_amount=10,
        mode=VirtualAccountMode.MERCHANT_GENERATED,
    )
    assert request.effective_mode is VirtualAccountMode.MERCHANT_GENERATED
    assert request.to_wire()["virtualAccountNo"] == "2056000123"

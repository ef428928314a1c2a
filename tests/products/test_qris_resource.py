"""``client.qris``: wire format, response parsing, QR pictures and validation."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ayolinx_async import (
    ConfigurationError,
    Credentials,
    OutcomeUnknownError,
    ResponseDecodeError,
    ValidationError,
)
from ayolinx_async.models import (
    Amount,
    Channel,
    QrisCancelRequest,
    QrisGenerateRequest,
    QrisGenerateResponse,
    QrisQueryResponse,
    TransactionStatus,
    UrlParam,
)

from ._wire import STATUS_CODES, api_response, assert_wire, jakarta, make_client

pytestmark = pytest.mark.anyio

QR = (
    "00020101021226650016ID.CO.BANKNEOCOMMERCE.WWW0118936004900000000000215ID1025000000000"
    "5204541153033605406100005802ID5909Merchant6007Jakarta6304ABCD"
)
GENERATED = {
    "responseCode": "2004700",
    "responseMessage": "Successful",
    "partnerReferenceNo": "ORD-20250101-0001",
    "qrContent": QR,
    "expiredDate": "1735700000",
}


async def test_generate_spec_example_on_the_wire(credentials: Credentials) -> None:
    client, wire = make_client(credentials, GENERATED)
    async with client:
        result = await client.qris.generate(
            partner_reference_no="ORD-20250101-0001",
            amount="10000",
            notification_url="https://merchant.example/ayolinx/notify",
        )
    assert len(wire.token_requests) == 1
    # The docs/protocol.md §17.1 example request, key for key.
    assert_wire(
        wire.last,
        path="/v1.0/qr/qr-mpm-generate",
        body={
            "partnerReferenceNo": "ORD-20250101-0001",
            "amount": {"value": "10000.00", "currency": "IDR"},
            "additionalInfo": {"channel": "BNC_QRIS"},
            "urlParams": [
                {"url": "https://merchant.example/ayolinx/notify", "type": "NOTIFICATION"}
            ],
        },
    )
    assert result.qr_content == QR
    assert result.partner_reference_no == "ORD-20250101-0001"


async def test_generate_every_optional_field(credentials: Credentials) -> None:
    client, wire = make_client(credentials, GENERATED)
    async with client:
        await client.qris.generate(
            partner_reference_no="ORD-2",
            amount=Decimal("15000.5"),
            url_params=[UrlParam.notification("https://m.example/a")],
            notification_url="https://m.example/b",
            valid_up_to=datetime(2025, 1, 1, 5, 0, tzinfo=UTC),
            validity_period=jakarta(2025, 1, 1, 13, 30),
            sub_merchant_id="936004900000",
            merchant_id="M-1",
            store_id="S-1",
            terminal_id="T-1",
            additional_info={"memo": "x"},
            external_id="555",
        )
    assert_wire(
        wire.last,
        path="/v1.0/qr/qr-mpm-generate",
        external_id="555",
        body={
            "partnerReferenceNo": "ORD-2",
            "amount": {"value": "15000.50", "currency": "IDR"},
            "merchantId": "M-1",
            "storeId": "S-1",
            "terminalId": "T-1",
            "additionalInfo": {"channel": "BNC_QRIS", "subMerchantId": "936004900000", "memo": "x"},
            "urlParams": [
                {"url": "https://m.example/a", "type": "NOTIFICATION"},
                {"url": "https://m.example/b", "type": "NOTIFICATION"},
            ],
            # UTC input is rendered in Jakarta time, never UTC with +07:00 glued on.
            "validUpTo": "2025-01-01T12:00:00+07:00",
            "validityPeriod": "2025-01-01T13:30:00+07:00",
        },
    )


async def test_generate_accepts_a_request_model(credentials: Credentials) -> None:
    client, wire = make_client(credentials, GENERATED)
    request = QrisGenerateRequest(partner_reference_no="ORD-3", amount=1)
    async with client:
        await client.qris.generate(request)
    assert_wire(
        wire.last,
        path="/v1.0/qr/qr-mpm-generate",
        body={
            "partnerReferenceNo": "ORD-3",
            "amount": {"value": "1.00", "currency": "IDR"},
            "additionalInfo": {"channel": "BNC_QRIS"},
        },
    )


def test_generate_response_parses_the_documented_shape() -> None:
    body = dict(GENERATED, qrUrl="https://qr.example/x.png", newField={"a": 1})
    result = QrisGenerateResponse.from_response(api_response(body))
    assert result.response_code.value == "2004700"
    assert result.response_message == "Successful"
    assert result.qr_content == QR
    # Documented as "seconds timestamp" (docs/protocol.md §17.1): Unix seconds are parsed.
    assert result.expired_date == datetime.fromtimestamp(1735700000, UTC)
    assert result.qr_url == "https://qr.example/x.png"
    # No Ayolinx-side reference in this response (docs/protocol.md §17.1).
    assert result.reference_no is None
    assert result.extra == {"newField": {"a": 1}}
    assert result.body["expiredDate"] == "1735700000"
    assert result.raw.startswith(b"{")
    assert result.external_id is not None


def test_generate_response_parses_an_iso_expiry() -> None:
    body = dict(GENERATED, expiredDate="2025-01-01T12:15:00+07:00")
    result = QrisGenerateResponse.from_response(api_response(body))
    assert result.expired_date == jakarta(2025, 1, 1, 12, 15)


def test_qr_pictures() -> None:
    result = QrisGenerateResponse.from_response(api_response(GENERATED))
    svg = result.to_svg()
    assert svg.startswith("<?xml")
    assert "<svg" in svg
    small = re.search(r'width="(\d+)"', svg)
    large = re.search(r'width="(\d+)"', result.to_svg(scale=8))
    assert small
    assert large
    assert int(large.group(1)) == 2 * int(small.group(1))
    png = result.to_png(scale=2)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(result.to_png(scale=6)) > len(png)
    text = result.to_terminal()
    lines = text.splitlines()
    assert len(lines) > 10
    assert all(len(line) == len(lines[0]) for line in lines)
    assert set(text) <= {"█", "▀", "▄", " ", "\n"}


def test_qr_pictures_need_the_qr_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)  # makes `import segno` fail
    result = QrisGenerateResponse.from_response(api_response(GENERATED))
    with pytest.raises(ConfigurationError, match=r'pip install "ayolinx-async\[qr\]"'):
        result.to_svg()


def test_a_success_without_qr_content_is_a_decode_error() -> None:
    """``qr_content`` is a ``str`` on every typed success: no ``None`` check for users."""
    with pytest.raises(ResponseDecodeError, match="qrContent"):
        QrisGenerateResponse.from_response(
            api_response({"responseCode": "2004700", "responseMessage": "Successful"})
        )


async def test_generate_without_qr_content_is_an_unknown_outcome(credentials: Credentials) -> None:
    """The QR may exist at Ayolinx: the caller must query, never retry blindly."""
    client, _ = make_client(credentials, {"responseCode": "2004700", "responseMessage": "OK"})
    async with client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.qris.generate(partner_reference_no="ORD-QR-0", amount=1000)
    assert isinstance(info.value.cause, ResponseDecodeError)


async def test_query_on_the_wire(credentials: Credentials) -> None:
    client, wire = make_client(
        credentials,
        {
            "responseCode": "2005100",
            "responseMessage": "Successful",
            "originalPartnerReferenceNo": "ORD-1",
            "originalReferenceNo": "20250110111212800110166944801931623",
            "latestTransactionStatus": "00",
            "finishedTime": "2025-01-10T11:12:30+07:00",
            "amount": {"currency": "IDR", "value": "10000.00"},
            "additionalInfo": {"channel": "BNC_QRIS", "RRN": "123"},
        },
    )
    async with client:
        result = await client.qris.query(original_partner_reference_no="ORD-1")
    assert_wire(
        wire.last,
        path="/v1.0/qr/qr-mpm-query",
        body={"originalPartnerReferenceNo": "ORD-1", "additionalInfo": {"channel": "BNC_QRIS"}},
    )
    assert isinstance(result, QrisQueryResponse)
    assert result.latest_transaction_status is TransactionStatus.SUCCESS
    assert result.is_paid
    assert result.is_final
    assert result.original_reference_no == "20250110111212800110166944801931623"
    assert result.finished_time == jakarta(2025, 1, 10, 11, 12).replace(second=30)
    assert result.amount == Amount(value=Decimal("10000.00"))
    assert result.channel is Channel.BNC_QRIS
    assert result.additional_info["RRN"] == "123"


@pytest.mark.parametrize("code", STATUS_CODES)
async def test_query_parses_every_status(credentials: Credentials, code: str) -> None:
    client, _ = make_client(
        credentials,
        {"responseCode": "2005100", "responseMessage": "OK", "latestTransactionStatus": code},
    )
    async with client:
        result = await client.qris.query(original_partner_reference_no="ORD-1")
    status = result.latest_transaction_status
    assert status is not None
    assert status == code
    assert status.is_known == (code != "99")
    assert result.is_final == (code in {"00", "04", "05", "06"})


async def test_cancel_on_the_wire(credentials: Credentials) -> None:
    client, wire = make_client(
        credentials,
        {
            "responseCode": "2007700",
            "responseMessage": "Successful",
            "originalPartnerReferenceNo": "ORD-1",
            "originalReferenceNo": "AYO-9",
            "cancelTime": "2025-01-10T11:20:00+07:00",
        },
    )
    async with client:
        result = await client.qris.cancel(
            original_partner_reference_no="ORD-1",
            original_reference_no="AYO-9",
            reason="buyer left",
        )
    assert_wire(
        wire.last,
        path="/v1.0/qr/qr-mpm-cancel",
        body={
            "originalPartnerReferenceNo": "ORD-1",
            "originalReferenceNo": "AYO-9",
            "reason": "buyer left",
            "additionalInfo": {"channel": "BNC_QRIS"},
        },
    )
    assert result.original_reference_no == "AYO-9"
    assert result.cancel_time == jakarta(2025, 1, 10, 11, 20)
    assert result.response_code.service_code == "77"


GOOD: dict[str, Any] = {"partner_reference_no": "ORD-1", "amount": "10000"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"partner_reference_no": None}, "partner_reference_no"),
        ({"amount": None}, "amount"),
        ({"partner_reference_no": 12345}, "partner_reference_no"),
        ({"partner_reference_no": "   "}, "partner_reference_no"),
        ({"partner_reference_no": "has space"}, "partner_reference_no"),
        ({"partner_reference_no": "R" * 65}, "partner_reference_no"),
        ({"amount": [10000]}, "amount.value"),
        ({"amount": "-1"}, "amount.value"),
        ({"amount": 0}, "amount.value"),
        ({"amount": "10.001"}, "amount.value"),
        ({"amount": "ten"}, "amount.value"),
        ({"amount": Amount(value=Decimal(5), currency="USD")}, "amount.currency"),
        ({"channel": 7}, "channel"),
        ({"valid_up_to": datetime(2025, 1, 1, 12, 0)}, "valid_up_to"),
        ({"validity_period": "2025-01-01T12:00:00+07:00"}, "validity_period"),
        ({"notification_url": "ftp://merchant.example/cb"}, "url_params[0].url"),
        ({"url_params": "https://merchant.example"}, "url_params"),
        ({"terminal_id": "T" * 17}, "terminal_id"),
        ({"sub_merchant_id": "S" * 33}, "sub_merchant_id"),
        ({"additional_info": {"channel": "X"}}, "additional_info.channel"),
        ({"additional_info": {"when": datetime.now(UTC)}}, "additional_info"),
    ],
)
async def test_generate_rejects_bad_input_before_sending(
    credentials: Credentials, changes: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, GENERATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.qris.generate(**{**GOOD, **changes})
    assert info.value.field == field
    assert info.value.rule
    assert field in str(info.value)
    assert wire.total_requests == 0


async def test_request_model_and_keywords_do_not_mix(credentials: Credentials) -> None:
    client, wire = make_client(credentials, GENERATED)
    request = QrisGenerateRequest(partner_reference_no="ORD-1", amount=10)
    async with client:
        with pytest.raises(ValidationError, match="amount") as info:
            await client.qris.generate(request, amount=20)
    assert info.value.field == "request"
    assert wire.total_requests == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "original_partner_reference_no"),
        ({"original_partner_reference_no": 1}, "original_partner_reference_no"),
        ({"original_partner_reference_no": "R" * 65}, "original_partner_reference_no"),
        ({"original_partner_reference_no": "R", "reason": "r" * 257}, "reason"),
        ({"original_partner_reference_no": "R", "channel": ""}, "channel"),
    ],
)
async def test_cancel_and_query_reject_bad_input(
    credentials: Credentials, kwargs: dict[str, Any], field: str
) -> None:
    client, wire = make_client(credentials, GENERATED)
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.qris.cancel(**kwargs)
        assert info.value.field == field
        if "reason" not in kwargs:
            with pytest.raises(ValidationError) as info:
                await client.qris.query(**kwargs)
            assert info.value.field == field
    assert wire.total_requests == 0


def test_models_reject_bad_values_directly() -> None:
    with pytest.raises(ValidationError) as info:
        QrisCancelRequest(original_partner_reference_no="R", reason="")
    assert info.value.field == "reason"
    with pytest.raises(TypeError):
        QrisGenerateRequest(partner_reference_no="R")  # type: ignore[call-arg]

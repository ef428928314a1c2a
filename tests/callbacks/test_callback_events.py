"""Typed events: fields per product, tolerance for unknown values, dedupe keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ayolinx_async.callbacks import (
    CallbackRejected,
    EwalletNotification,
    NotificationKind,
    PaymentLinkNotification,
    PaymentNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
    classify_notification,
    parse_notification,
    parse_va_payment,
)
from ayolinx_async.models import Amount, Channel, TransactionStatus

from ._helpers import (
    encode,
    ewallet_body,
    payment_link_body,
    qris_body,
    retail_body,
    va_notify_body,
    va_payment_body,
)


def test_qris_fields_and_unknown_fields_kept() -> None:
    raw = qris_body()
    event = parse_notification(raw, path="/cb", timestamp="2025-01-10T11:12:41+07:00")
    assert isinstance(event, QrisNotification)
    assert event.kind is NotificationKind.QRIS
    assert event.status is TransactionStatus.SUCCESS
    assert event.original_reference_no == "20250110111212800110166944801931623"
    assert event.original_partner_reference_no == "ORD-QRIS-1"
    assert event.amount == Amount(value=Decimal("20000.00"), currency="IDR")
    assert event.fee == Amount(value=Decimal("140.00"), currency="IDR")
    assert event.channel is Channel.BNC_QRIS
    assert event.finished_time == datetime(2025, 1, 10, 4, 12, 40, tzinfo=UTC)
    assert event.callback_type == "QRIS"
    assert event.customer_number == "089912345678"
    assert event.rrn == "501011123456"
    assert event.bank_name == "Bank Neo Commerce"
    assert event.payer_name == "Jokul Doe"
    assert event.settle_date == "2025-01-11"
    assert event.extra == {"brandNewField": {"nested": True}}
    assert event.additional_info["errorCode"] == ""
    assert event.raw == raw
    assert event.body == json.loads(raw)
    assert event.path == "/cb"
    assert event.timestamp == "2025-01-10T11:12:41+07:00"
    assert event.dedupe_key == "20250110111212800110166944801931623:00"
    assert "Jokul" not in repr(event)  # personal data, raw and body stay out of repr
    assert "089912345678" not in repr(event)


def test_documented_rrn_spelling_is_read_too() -> None:
    body = json.loads(qris_body())
    info = body["additionalInfo"]
    info["rRN"] = info.pop("RRN")
    event = parse_notification(encode(body))
    assert isinstance(event, QrisNotification)
    assert event.rrn == "501011123456"


@pytest.mark.parametrize(
    ("raw", "cls", "kind"),
    [
        (ewallet_body(), EwalletNotification, NotificationKind.EWALLET),
        (va_notify_body(), VirtualAccountNotification, NotificationKind.VIRTUAL_ACCOUNT),
        (retail_body(), RetailNotification, NotificationKind.RETAIL),
        (payment_link_body(), PaymentLinkNotification, NotificationKind.PAYMENT_LINK),
    ],
)
def test_products_are_told_apart_by_body(raw: bytes, cls: type, kind: NotificationKind) -> None:
    event = parse_notification(raw)
    assert type(event) is cls
    assert event.kind is kind
    assert classify_notification(json.loads(raw)) is kind


def test_ewallet_and_payment_link_specifics() -> None:
    wallet = parse_notification(ewallet_body())
    assert isinstance(wallet, EwalletNotification)
    assert wallet.transaction_status_desc == "SUCCESS"
    assert wallet.amount is not None
    assert wallet.amount.value == Decimal("30.00")
    link = parse_notification(payment_link_body())
    assert isinstance(link, PaymentLinkNotification)
    assert link.plh == "4DrzTTeCn9Z"
    assert link.via is NotificationKind.QRIS
    assert link.channel is Channel.BNC_QRIS


def test_plh_wins_over_route_hint_and_hint_wins_over_channel() -> None:
    assert classify_notification(json.loads(payment_link_body()), NotificationKind.QRIS) is (
        NotificationKind.PAYMENT_LINK
    )
    assert classify_notification(json.loads(qris_body()), NotificationKind.RETAIL) is (
        NotificationKind.RETAIL
    )


def test_tolerates_numbers_unknown_status_and_missing_optional_fields() -> None:
    raw = (
        b'{"originalPartnerReferenceNo":"P1","latestTransactionStatus":"08",'
        b'"amount":{"value":1500.5}}'
    )
    event = parse_notification(raw)
    assert type(event) is PaymentNotification
    assert event.status.value == "08"
    assert not event.status.is_known
    assert event.amount == Amount(value=Decimal("1500.5"), currency="IDR")
    assert event.channel is None
    assert event.finished_time is None
    assert event.original_reference_no is None
    assert event.reference == "P1"
    assert event.dedupe_key == "partner:P1:08"


def test_unreadable_amount_is_refused_not_guessed() -> None:
    """The paid amount is what the merchant checks an order against: 400, never a guess."""
    raw = encode(
        {
            "originalReferenceNo": "R",
            "latestTransactionStatus": "00",
            "amount": {"value": "20.000,00"},
        }
    )
    with pytest.raises(CallbackRejected) as info:
        parse_notification(raw)
    assert (info.value.http_status, info.value.case_code) == (400, "01")
    assert info.value.reason == "bad_amount"
    assert "amount.value" in info.value.message


@pytest.mark.parametrize(
    ("raw", "case"),
    [
        (b"", "01"),
        (b"\xff\xfe", "01"),
        (b'"just a string"', "01"),
        (b"[" * 100_000, "01"),
        (b'{"originalReferenceNo":"R"}', "02"),
        (b'{"latestTransactionStatus":"00"}', "02"),
        (b'{"latestTransactionStatus":"","originalReferenceNo":"R"}', "02"),
        (b'{"latestTransactionStatus":{"x":1},"originalReferenceNo":"R"}', "02"),
    ],
)
def test_bad_bodies_raise_rejections(raw: bytes, case: str) -> None:
    with pytest.raises(CallbackRejected) as info:
        parse_notification(raw)
    assert info.value.http_status == 400
    assert info.value.case_code == case
    assert info.value.response_code("56") == f"40056{case}"


def test_va_payment_fields_echo_and_dedupe_key() -> None:
    raw = va_payment_body()
    event = parse_va_payment(raw, external_id="77", partner_id="CK")
    assert isinstance(event, VaPaymentRequest)
    assert event.status is TransactionStatus.SUCCESS
    assert event.partner_service_id == "   88899"
    assert event.customer_no == "12345678901234567890"
    assert event.virtual_account_name == "Jokul Doe"
    assert event.trx_id == "TRX-SNAP-1"
    assert event.payment_request_id == "PRQ-1"
    assert event.trx_type == "C"
    assert event.channel is Channel.VIRTUAL_ACCOUNT_BNI
    assert event.payment_ntb == "123456"
    assert event.payment_time == datetime(2025, 2, 27, 3, 0, tzinfo=UTC)
    assert event.external_id == "77"
    assert event.dedupe_key == "va-payment:8889912345678901234567890:PRQ-1"
    echo = event.virtual_account_data()
    assert "futureField" not in echo
    assert echo["paidAmount"] == {"value": "11500.00", "currency": "IDR"}


def test_va_payment_without_request_id_dedupes_on_trx_id() -> None:
    body = json.loads(va_payment_body())
    del body["paymentRequestId"]
    event = parse_va_payment(encode(body))
    # The bank's reference (additionalInfo.paymentNtb) keeps payments apart: a reusable
    # open-amount VA repeats its trxId on every top-up.
    assert event.dedupe_key == "va-payment:8889912345678901234567890:trx:TRX-SNAP-1:ntb:123456"
    second = {**body, "additionalInfo": {**body["additionalInfo"], "paymentNtb": "654321"}}
    assert parse_va_payment(encode(second)).dedupe_key != event.dedupe_key
    assert parse_va_payment(encode(body)).dedupe_key == event.dedupe_key  # a redelivery
    del body["trxId"]
    with pytest.raises(CallbackRejected) as info:
        parse_va_payment(encode(body))
    assert info.value.case_code == "02"


def test_callback_and_response_read_channel_and_currency_alike() -> None:
    """One set of parsers: a padded channel and an uppercased-to-ASCII currency are read the
    same way by a callback event and a status response."""
    from ayolinx_async.models import QrisQueryResponse
    from tests.products._wire import api_response

    body = {
        "latestTransactionStatus": "00",
        "originalReferenceNo": "A1",
        "amount": {"value": "1000.00", "currency": " idr "},
        "additionalInfo": {"channel": " BNC_QRIS "},
    }
    event = QrisNotification.from_body(body)
    status = QrisQueryResponse.from_response(api_response(body))
    assert event.channel == status.channel == Channel.BNC_QRIS
    assert event.amount == status.amount == Amount(value=Decimal("1000.00"), currency="IDR")
    dotless = {**body, "amount": {"value": "1000.00", "currency": "\u0131dr"}}
    assert QrisQueryResponse.from_response(api_response(dotless)).amount is None
    with pytest.raises(CallbackRejected) as caught:
        QrisNotification.from_body(dotless)
    assert caught.value.http_status == 400

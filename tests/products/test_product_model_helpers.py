"""The shared request/response helpers the product models are built from."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

import pytest

from ayolinx_async import ValidationError
from ayolinx_async._resources._base import build_url_params
from ayolinx_async.models import (
    Amount,
    Channel,
    QrisGenerateRequest,
    QrisQueryResponse,
    TransactionStatus,
    UrlParam,
    ValidUpToFormat,
    VirtualAccountCreateRequest,
)
from ayolinx_async.models._checks import (
    check_text,
    to_additional_info,
    to_channel,
    to_url_params,
)
from ayolinx_async.models._common import unknown_fields
from ayolinx_async.models._money import coerce_amount
from ayolinx_async.models._parsers import parse_status
from ayolinx_async.models._times import render_valid_up_to

from ._wire import api_response, jakarta


@pytest.mark.parametrize(
    ("value", "kind", "rule"),
    [
        (None, "text", "must be a string"),
        ("", "text", "must not be blank"),
        ("a\tb", "text", "control characters"),
        ("x" * 11, "text", "at most 10 characters"),
        ("a b", "reference", "visible ASCII"),
        ("a@b", "email", "e-mail"),
        ("+62-81", "phone", "digits"),
        ("12a", "digits", "digits only"),
        ("http://a b", "url", "http(s) URL"),
    ],
)
def test_check_text_names_field_and_rule(value: object, kind: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_text(value, field="some_field", max_length=10, kind=kind)  # type: ignore[arg-type]
    assert info.value.field == "some_field"
    assert rule in info.value.rule


def test_check_text_accepts_unicode_names() -> None:
    assert check_text("Dewi Sartika Ñ", field="name", max_length=255) == "Dewi Sartika Ñ"


def test_coerce_amount() -> None:
    assert coerce_amount("10000", field="amount").to_wire() == {
        "value": "10000.00",
        "currency": "IDR",
    }
    assert coerce_amount(Amount(value=Decimal("1.5")), field="amount").value == Decimal("1.5")
    usd = Amount(value=Decimal(1), currency="USD")
    with pytest.raises(ValidationError) as info:
        coerce_amount(usd, field="total_amount")
    assert info.value.field == "total_amount.currency"
    assert coerce_amount(usd, field="x", allow_non_idr=True).currency == "USD"
    # An Amount built directly (bypassing Amount.of) is re-checked.
    with pytest.raises(ValidationError, match="negative"):
        coerce_amount(Amount(value=Decimal(-5)), field="amount")


def test_render_valid_up_to() -> None:
    moment = datetime(2025, 5, 3, 5, 25, 42, tzinfo=UTC)
    assert render_valid_up_to(moment, ValidUpToFormat.UNIX_SECONDS, field="v") == "1746249942"
    assert (
        render_valid_up_to(moment, ValidUpToFormat.ISO_8601, field="v")
        == "2025-05-03T12:25:42+07:00"
    )
    with pytest.raises(ValidationError) as info:
        render_valid_up_to(datetime(2025, 5, 3), ValidUpToFormat.UNIX_SECONDS, field="v")
    assert info.value.field == "v"


def test_open_channel_and_status_parsing() -> None:
    assert to_channel("BNC_QRIS") is Channel.BNC_QRIS
    future = to_channel("EMONEY_OVO_SNAP")
    assert future == "EMONEY_OVO_SNAP"
    assert not future.is_known
    assert parse_status("00") is TransactionStatus.SUCCESS
    assert parse_status(6) is TransactionStatus.FAILED  # a PHP-style integer
    assert parse_status("") is None
    assert parse_status(None) is None
    unknown = parse_status("08")
    assert unknown == "08"
    assert unknown is not None
    assert not unknown.is_terminal


def test_url_params_and_additional_info() -> None:
    params = build_url_params(
        [UrlParam.notification("https://a.example/n")],
        return_url="https://a.example/r",
        notification_url="https://a.example/n2",
    )
    assert [p.to_wire() for p in params] == [
        {"url": "https://a.example/n", "type": "NOTIFICATION"},
        {"url": "https://a.example/r", "type": "PAY_RETURN"},
        {"url": "https://a.example/n2", "type": "NOTIFICATION"},
    ]
    assert to_url_params(params) == params
    with pytest.raises(ValidationError) as info:
        to_url_params([UrlParam(url="https://a.example", type="")])  # type: ignore[arg-type]
    assert info.value.field == "url_params[0].type"
    info_map = to_additional_info({"a": 1})
    assert isinstance(info_map, MappingProxyType)
    with pytest.raises(ValidationError):
        to_additional_info({1: "x"})  # type: ignore[dict-item]


def test_status_response_common_shape() -> None:
    body = {
        "responseCode": "2005100",
        "responseMessage": "Successful",
        "originalPartnerReferenceNo": "A",
        "latestTransactionStatus": "02",
        "finishedTime": "2025-01-10T04:12:30Z",
        "paidTime": 1736482350,
        "amount": {"value": "1,234.00", "currency": "IDR"},
        "additionalInfo": {"channel": "BNC_NEW"},
        "surprise": [1, 2],
    }
    result = QrisQueryResponse.from_response(api_response(body))
    assert result.latest_transaction_status is TransactionStatus.PAYING
    assert not result.is_final
    assert not result.is_paid
    assert result.finished_time == jakarta(2025, 1, 10, 11, 12).replace(second=30)
    assert result.paid_time == datetime.fromtimestamp(1736482350, UTC)
    assert result.amount == Amount(value=Decimal("1234.00"))
    assert result.channel == "BNC_NEW"
    assert result.channel is not None
    assert not result.channel.is_known
    assert result.extra == {"surprise": [1, 2]}
    assert result.body == body
    assert unknown_fields(body, ["surprise"])["latestTransactionStatus"] == "02"
    # The raw answer (bytes, X-EXTERNAL-ID) stays reachable but out of repr.
    assert result.raw
    assert result.external_id
    assert "raw=" not in repr(result)


def test_status_response_tolerates_missing_and_odd_fields() -> None:
    result = QrisQueryResponse.from_response(
        api_response(
            {
                "responseCode": "2005100",
                "responseMessage": "OK",
                "latestTransactionStatus": None,
                "amount": {"value": "20.000,00"},
                "finishedTime": "yesterday",
                "additionalInfo": "not an object",
            }
        )
    )
    assert result.latest_transaction_status is None
    assert result.amount is None
    assert result.finished_time is None
    assert result.additional_info == {}
    assert result.channel is None


def test_non_idr_needs_explicit_permission() -> None:
    usd = Amount(value=Decimal("12.50"), currency="USD")
    with pytest.raises(ValidationError) as info:
        QrisGenerateRequest(partner_reference_no="Q", amount=usd)
    assert info.value.field == "amount.currency"
    allowed = QrisGenerateRequest(partner_reference_no="Q", amount=usd, allow_non_idr=True)
    assert allowed.to_wire()["amount"] == {"value": "12.50", "currency": "USD"}
    with pytest.raises(ValidationError) as info:
        VirtualAccountCreateRequest(
            partner_service_id="2056",
            customer_no="1",
            virtual_account_name="N",
            trx_id="T",
            channel="VIRTUAL_ACCOUNT_CIMB",
            total_amount=usd,
        )
    assert info.value.field == "total_amount.currency"


def test_known_fields_and_wire_order_come_from_the_declarations() -> None:
    """Each wire field is declared once: the known set (for ``extra``) and the body order are
    derived from the attrs metadata."""
    from ayolinx_async.models import QrisCancelRequest, QrisCancelResponse
    from ayolinx_async.models._fields import known_names

    assert known_names(QrisCancelResponse) == {
        "originalPartnerReferenceNo",
        "originalReferenceNo",
        "cancelTime",
        "transactionDate",
        "additionalInfo",
    }
    body = QrisCancelRequest(
        original_partner_reference_no="P1", reason="dup", additional_info={"note": "x"}
    ).to_wire()
    assert list(body) == ["originalPartnerReferenceNo", "reason", "additionalInfo"]
    assert list(body["additionalInfo"].items()) == [("channel", "BNC_QRIS"), ("note", "x")]

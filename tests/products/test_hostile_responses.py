"""Values from the wire are parsed totally: hostile response fields become ``None`` (raw kept),
and a parser failure after a money-moving success is an ``OutcomeUnknownError`` (issue 12 §2)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ayolinx_async import (
    AyolinxClient,
    BadRequestError,
    Credentials,
    OutcomeUnknownError,
    ResponseDecodeError,
)
from ayolinx_async.models import (
    Amount,
    EwalletPaymentResponse,
    EwalletStatusResponse,
    PaymentLinkCreateResponse,
    PaymentLinkItem,
    QrisCancelResponse,
    QrisGenerateResponse,
    QrisQueryResponse,
    RetailCreateResponse,
    RetailQueryResponse,
    VirtualAccountCreateResponse,
    VirtualAccountInquiryResponse,
    parse_amount,
    parse_time,
)
from ayolinx_async.models._parsers import parse_status, parse_str
from ayolinx_async.simulator import Simulator

from ._wire import EXTERNAL_ID, jakarta, make_client

pytestmark = pytest.mark.anyio

#: Raw JSON tokens a broken or hostile gateway could send; ``json.loads`` takes all of them
#: (``1E+999999`` becomes ``inf``, a 4000-digit integer stays an ``int``).
HOSTILE = {
    "superscript": '"²"',
    "circled": '"①"',
    "arabic-indic": '"\u0661\u0662\u0663"',
    "superscripts": '"²²²²²²²²²²"',
    "inf-number": "1E+999999",
    "nan": "NaN",
    "infinity": "-Infinity",
    "huge-int": "9" * 4000,
    "huge-float": "1e308",
    "three-decimals": "10000.001",
    "object": '{"nested": {"value": "10000.00"}}',
    "list": '["10000.00"]',
    "bool": "true",
    "lone-surrogate": '"\\ud800"',
}
MARK = "__HOSTILE__"


def _raw_reply(template: dict[str, Any], token: str) -> Callable[[httpx.Request], httpx.Response]:
    """Answer with ``template`` where the string ``MARK`` is replaced by a raw JSON token."""
    content = json.dumps(template).replace(json.dumps(MARK), token).encode()

    def reply(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content)

    return reply


# -- the parse helpers ----------------------------------------------------------------------

WIRE_VALUES: list[object] = [
    json.loads(token) for token in HOSTILE.values() if token != '"\\ud800"'
] + [
    "\ud800",
    Decimal("1E+999999"),
    Decimal("-1E+999999"),
    Decimal("sNaN"),
    Decimal("NaN"),
    10**4000,
    -(10**30),
    float("nan"),
    float("inf"),
    "9" * 100_000,
    "2024-13-45T99:99:99+07:00",
    "\uff12\uff10\uff12\uff14-01-01T00:00:00+07:00",
    {"nested": [{"deep": None}]},
    [[[]]],
    None,
    False,
]


@pytest.mark.parametrize("value", WIRE_VALUES, ids=lambda v: type(v).__name__)
def test_parse_helpers_are_total(value: object) -> None:
    start = time.perf_counter()
    amount = parse_amount(value)
    assert amount is None or amount.is_finite()
    parse_time(value)
    parse_status(value)
    parse_str(value)
    Amount.from_wire({"value": value, "currency": value})
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "①",
        "\u0661\u0662\u0663",
        "\u0661\u0662\u0663.\u0660\u0660",
        float("inf"),
        float("nan"),
        Decimal("1E+999999"),
        Decimal("Infinity"),
        10000.001,
        "10000.001",
        "20.000,00",
        "1E+3",
        10**4000,
    ],
    ids=repr,
)
def test_parse_amount_never_returns_a_guess(value: object) -> None:
    assert parse_amount(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10000.00", "10000.00"), (10000, "10000"), ("1,234.50", "1234.50"), (12.5, "12.5")],
)
def test_parse_amount_still_reads_real_amounts(value: object, expected: str) -> None:
    assert parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize("value", ["²", "①", "²²²²²²²²²²", 10**400, Decimal("1E+999999")])
def test_parse_time_gives_none_for_unreadable_times(value: object) -> None:
    assert parse_time(value) is None


def test_amount_from_wire_needs_a_string_currency() -> None:
    assert Amount.from_wire({"value": "10.00", "currency": ["IDR"]}) is None
    assert Amount.from_wire({"value": "10.00"}) == Amount(value=Decimal("10.00"))


# -- hostile fields through the real resource methods --------------------------------------

Call = Callable[[AyolinxClient], Awaitable[Any]]


async def _qris_generate(client: AyolinxClient) -> Any:
    return await client.qris.generate(partner_reference_no="R-1", amount=10000)


async def _qris_cancel(client: AyolinxClient) -> Any:
    return await client.qris.cancel(original_partner_reference_no="R-1")


async def _qris_query(client: AyolinxClient) -> Any:
    return await client.qris.query(original_partner_reference_no="R-1")


async def _dana_pay(client: AyolinxClient) -> Any:
    return await client.ewallet.create_payment(partner_reference_no="R-1", amount=10000)


async def _dana_status(client: AyolinxClient) -> Any:
    return await client.ewallet.inquire_status(original_partner_reference_no="R-1")


async def _va_create(client: AyolinxClient) -> Any:
    return await client.virtual_accounts.create(
        channel="VIRTUAL_ACCOUNT_BNI",
        trx_id="T-1",
        customer_no="12345",
        virtual_account_name="Budi",
        total_amount=10000,
    )


async def _va_inquire(client: AyolinxClient) -> Any:
    return await client.virtual_accounts.inquire(
        original_partner_reference_no="T-1", channel="VIRTUAL_ACCOUNT_BNI"
    )


async def _retail_create(client: AyolinxClient) -> Any:
    return await client.retail.create(
        partner_reference_no="R-1",
        amount=10000,
        channel="RETAIL_ALFAMIDI",
        valid_up_to=jakarta(2030, 1, 1),
        customer_name="Budi",
        customer_email="budi@example.com",
    )


async def _retail_query(client: AyolinxClient) -> Any:
    return await client.retail.query(original_partner_reference_no="R-1", channel="RETAIL_ALFAMIDI")


async def _link_create(client: AyolinxClient) -> Any:
    return await client.payment_links.create(
        partner_reference_no="R-1", items=[PaymentLinkItem(name="Kopi", price=10000)]
    )


def _status_body(code: str, **fields: Any) -> dict[str, Any]:
    body = {
        "responseCode": code,
        "responseMessage": "Successful",
        "originalPartnerReferenceNo": "R-1",
        "latestTransactionStatus": "00",
        "amount": {"value": "10000.00", "currency": "IDR"},
        "finishedTime": "2025-01-01T10:00:00+07:00",
        "paidTime": "2025-01-01T10:00:00+07:00",
    }
    body.update(fields)
    return body


Case = tuple[Call, dict[str, Any], Callable[[Any], object], str]


def _status_cases(call: Call, code: str) -> list[Case]:
    return [
        (call, _status_body(code, finishedTime=MARK), lambda r: r.finished_time, "time"),
        (call, _status_body(code, paidTime=MARK), lambda r: r.paid_time, "time"),
        (
            call,
            _status_body(code, amount={"value": MARK, "currency": "IDR"}),
            lambda r: r.amount,
            "amount",
        ),
        (
            call,
            _status_body(code, amount={"value": "1.00", "currency": MARK}),
            lambda r: r.amount,
            "amount",
        ),
        (call, _status_body(code, amount=MARK), lambda r: r.amount, "amount"),
    ]


_VA_DATA = {"trxId": "T-1", "virtualAccountNo": "98829172012345"}
CASES: list[Case] = [
    (
        _qris_generate,
        {"responseCode": "2004700", "qrContent": "000201", "expiredDate": MARK},
        lambda r: r.expired_date,
        "time",
    ),
    (
        _qris_cancel,
        {"responseCode": "2007700", "cancelTime": MARK},
        lambda r: r.cancel_time,
        "time",
    ),
    (
        _qris_cancel,
        {"responseCode": "2007700", "transactionDate": MARK},
        lambda r: r.transaction_date,
        "time",
    ),
    *_status_cases(_qris_query, "2005100"),
    *_status_cases(_dana_status, "2005500"),
    *_status_cases(_va_inquire, "2002600"),
    *_status_cases(_retail_query, "2003700"),
    (
        _va_create,
        {"responseCode": "2002700", "virtualAccountData": {**_VA_DATA, "expiredDate": MARK}},
        lambda r: r.expired_date,
        "time",
    ),
    (
        _va_create,
        {
            "responseCode": "2002700",
            "virtualAccountData": {**_VA_DATA, "totalAmount": {"value": MARK, "currency": "IDR"}},
        },
        lambda r: r.virtual_account_data.total_amount,
        "amount",
    ),
    (_retail_create, {"responseCode": "00", "expiryDate": MARK}, lambda r: r.expiry_date, "time"),
    (
        _link_create,
        {"responseCode": "2000100", "paymentLink": "https://p.example/x", "expiryDate": MARK},
        lambda r: r.expiry_date,
        "time",
    ),
]


# A lone surrogate is a valid ``str``; the parse-helper tests cover it.
_TOKENS = {name: token for name, token in HOSTILE.items() if name != "lone-surrogate"}


@pytest.mark.parametrize("token", list(_TOKENS.values()), ids=list(_TOKENS))
@pytest.mark.parametrize(
    ("call", "template", "field", "kind"),
    CASES,
    ids=[f"{case[0].__name__}-{index}" for index, case in enumerate(CASES)],
)
async def test_hostile_response_fields_are_tolerated_with_raw_kept(
    credentials: Credentials,
    call: Call,
    template: dict[str, Any],
    field: Callable[[Any], object],
    kind: str,
    token: str,
) -> None:
    client, _ = make_client(credentials, _raw_reply(template, token))
    async with client:
        result = await call(client)
    if token == "10000.001" and kind == "time":
        assert field(result) == datetime(1970, 1, 1, 2, 46, 40, 1000, tzinfo=UTC)  # Unix time
    else:
        assert field(result) is None
    assert token.encode() in result.raw


@pytest.mark.parametrize("status", ["9" * 4000, "1E+999999", "NaN", '{"a": 1}', '["00"]', "true"])
async def test_hostile_status_codes_do_not_raise(credentials: Credentials, status: str) -> None:
    body = _status_body("2005100", latestTransactionStatus=MARK)
    client, _ = make_client(credentials, _raw_reply(body, status))
    async with client:
        result = await _qris_query(client)
    assert result.latest_transaction_status is None
    assert not result.is_paid


@pytest.mark.parametrize("link", ["https://[", 10**30, float("inf")])
async def test_hostile_payment_link_is_tolerated(credentials: Credentials, link: object) -> None:
    body = {"responseCode": "2000100", "paymentLink": link}
    content = json.dumps(body).encode()
    client, _ = make_client(credentials, lambda _: httpx.Response(200, content=content))
    async with client:
        result = await _link_create(client)
    assert result.link_id is None or isinstance(result.link_id, str)


async def test_qris_generate_with_superscript_expiry_keeps_the_qr(
    credentials: Credentials,
) -> None:
    # Issue 12 §2: the QR was created; the caller must get it, not a bare ValueError.
    body = {"responseCode": "2004700", "qrContent": "000201", "expiredDate": "²"}
    client, _ = make_client(credentials, body)
    async with client:
        result = await client.qris.generate(partner_reference_no="R-1", amount=10000)
    assert result.qr_content == "000201"
    assert result.expired_date is None
    assert result.body["expiredDate"] == "²"


# -- a parser failure we have not found yet -------------------------------------------------

MONEY_MOVING: list[tuple[Call, type[Any], dict[str, Any], str, str, str]] = [
    (
        _qris_generate,
        QrisGenerateResponse,
        {"responseCode": "2004700"},
        "/v1.0/qr/qr-mpm-generate",
        "R-1",
        "BNC_QRIS",
    ),
    (
        _qris_cancel,
        QrisCancelResponse,
        {"responseCode": "2007700"},
        "/v1.0/qr/qr-mpm-cancel",
        "R-1",
        "BNC_QRIS",
    ),
    (
        _dana_pay,
        EwalletPaymentResponse,
        {"responseCode": "2005400"},
        "/direct-debit/core/v1/debit/payment-host-to-host",
        "R-1",
        "EMONEY_DANA_SNAP",
    ),
    (
        _va_create,
        VirtualAccountCreateResponse,
        {"responseCode": "2002700"},
        "/v1.0/transfer-va/create-va",
        "T-1",
        "VIRTUAL_ACCOUNT_BNI",
    ),
    (
        _retail_create,
        RetailCreateResponse,
        {"responseCode": "00"},
        "/v1.0/retail/create",
        "R-1",
        "RETAIL_ALFAMIDI",
    ),
]
READ_ONLY: list[tuple[Call, type[Any], dict[str, Any]]] = [
    (_qris_query, QrisQueryResponse, _status_body("2005100")),
    (_dana_status, EwalletStatusResponse, _status_body("2005500")),
    (_va_inquire, VirtualAccountInquiryResponse, _status_body("2002600")),
    (_retail_query, RetailQueryResponse, _status_body("2003700")),
]


class _ParserBug(Exception):
    pass


def _break_parser(monkeypatch: pytest.MonkeyPatch, model: type[Any]) -> None:
    def boom(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        raise _ParserBug("expiredDate")

    monkeypatch.setattr(model, "from_response", classmethod(boom))


@pytest.mark.parametrize(
    ("call", "model", "body", "path", "reference", "channel"),
    MONEY_MOVING,
    ids=[case[1].__name__ for case in MONEY_MOVING],
)
async def test_a_parser_failure_after_money_moved_is_outcome_unknown(
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    call: Call,
    model: type[Any],
    body: dict[str, Any],
    path: str,
    reference: str,
    channel: str,
) -> None:
    _break_parser(monkeypatch, model)
    client, wire = make_client(credentials, body)
    async with client:
        with pytest.raises(OutcomeUnknownError) as info:
            await call(client)
    error = info.value
    assert isinstance(error.cause, _ParserBug)
    assert error.__cause__ is error.cause
    assert error.path == path
    assert error.partner_reference_no == reference
    assert error.external_id == EXTERNAL_ID
    assert error.channel == channel
    assert error.attempts == 1
    assert len(wire.service_requests) == 1


async def test_a_payment_link_parser_failure_is_outcome_unknown(
    credentials: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_parser(monkeypatch, PaymentLinkCreateResponse)
    client, _ = make_client(credentials, {"responseCode": "2000100"})
    async with client:
        with pytest.raises(OutcomeUnknownError) as info:
            await _link_create(client)
    assert info.value.partner_reference_no == "R-1"
    assert info.value.path == "/v1.0/payment-link/create"


@pytest.mark.parametrize(
    ("call", "model", "body"), READ_ONLY, ids=[case[1].__name__ for case in READ_ONLY]
)
async def test_a_parser_failure_on_a_read_is_a_decode_error(
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    call: Call,
    model: type[Any],
    body: dict[str, Any],
) -> None:
    _break_parser(monkeypatch, model)
    client, _ = make_client(credentials, body)
    async with client:
        with pytest.raises(ResponseDecodeError) as info:
            await call(client)
    assert isinstance(info.value.__cause__, _ParserBug)
    assert "expiredDate" in str(info.value)
    assert info.value.external_id == EXTERNAL_ID
    assert info.value.http_status == 200


# -- the simulator answers hostile digits with a SNAP 400, not a 500 ------------------------

NOW = jakarta(2026, 3, 2, 10)


@pytest.fixture
async def sim_client() -> AsyncIterator[AyolinxClient]:
    sim = Simulator(clock=lambda: NOW.timestamp(), seed=7)
    async with sim, sim.client(max_retries=0) as client:
        yield client


def _qris_body(value: str) -> dict[str, Any]:
    return {
        "partnerReferenceNo": "R-1",
        "amount": {"value": value, "currency": "IDR"},
        "additionalInfo": {"channel": "BNC_QRIS"},
    }


def _dana_body(valid_up_to: str) -> dict[str, Any]:
    return {
        "partnerReferenceNo": "R-1",
        "validUpTo": valid_up_to,
        "amount": {"value": "10000.00", "currency": "IDR"},
        "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
    }


def _va_body(customer_no: str, service_id: str = "98829172") -> dict[str, Any]:
    return {
        "partnerServiceId": service_id,
        "customerNo": customer_no,
        "virtualAccountNo": "",
        "virtualAccountName": "Budi",
        "trxId": "T-1",
        "virtualAccountTrxType": "C",
        "totalAmount": {"value": "10000.00", "currency": "IDR"},
        "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
    }


def _link_body(price: str, qty: str = "1", country_code: str = "+62") -> dict[str, Any]:
    return {
        "partnerReferenceNo": "R-1",
        "customerPhoneNumber": "8123",
        "customerPhoneNumberCountryCode": country_code,
        "listItem": [{"name": "Kopi", "price": price, "qty": qty}],
        "listPaymentChannel": ["BNC_QRIS"],
        "description": "",
    }


SIM_CASES = [
    ("/v1.0/qr/qr-mpm-generate", _qris_body("²²².00"), "amount.value"),
    ("/v1.0/qr/qr-mpm-generate", _qris_body("\u0661\u0662\u0663.\u0660\u0660"), "amount.value"),
    ("/v1.0/qr/qr-mpm-generate", _qris_body("10000.00\n"), "amount.value"),
    ("/direct-debit/core/v1/debit/payment-host-to-host", _dana_body("²²²²²²²²²²"), "validUpTo"),
    ("/v1.0/transfer-va/create-va", _va_body("\u0661\u0662\u0663"), "customerNo"),
    ("/v1.0/transfer-va/create-va", _va_body("123", service_id="①"), "partnerServiceId"),
    ("/v1.0/payment-link/create", _link_body("²"), "price"),
    ("/v1.0/payment-link/create", _link_body("1000", qty="²"), "qty"),
    ("/v1.0/payment-link/create", _link_body("\u0661\u0660\u0660\u0660"), "price"),
    ("/v1.0/payment-link/create", _link_body("1000", country_code="+\u0666\u0662"), "CountryCode"),
]


@pytest.mark.parametrize(
    ("path", "body", "field"), SIM_CASES, ids=[case[2] + str(i) for i, case in enumerate(SIM_CASES)]
)
async def test_simulator_refuses_non_ascii_digits_with_400(
    sim_client: AyolinxClient, path: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadRequestError) as info:
        await sim_client.request(path, body)
    assert info.value.http_status == 400
    assert info.value.case_code == "01"
    assert field in info.value.message

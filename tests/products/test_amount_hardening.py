"""Amounts a person types: one strict grammar, hints for grouped forms, never a silent rounding.

Issue 12 §1: ``"25.000"`` is Rp 25,000 to an Indonesian, not Rp 25.00.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayolinx_async import AyolinxClient, Credentials, ValidationError
from ayolinx_async.models import (
    Amount,
    EwalletPaymentRequest,
    PaymentLinkCreateRequest,
    PaymentLinkItem,
    QrisGenerateRequest,
    RetailCreateRequest,
    VirtualAccountCreateRequest,
)
from ayolinx_async.models._common import to_amount

from ._wire import jakarta, make_client

EXPIRY = jakarta(2030, 1, 1)


# -- to_amount: strings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("25.000", '"25.000" looks like an Indonesian thousands separator; pass 25000'),
        ("1.500", '"1.500" looks like an Indonesian thousands separator; pass 1500'),
        ("1.500.000", '"1.500.000" looks like an Indonesian thousands separator; pass 1500000'),
        ("25.000,50", 'pass "25000.50"'),
        ("25,000", 'pass "25000" (or "25" if "," was a decimal comma)'),
        ("1,500,000", 'pass "1500000"'),
        ("25,000.50", 'pass "25000.50"'),
        ("25,50", 'decimal comma; pass "25.50"'),
        ("5_000", "pass 5000"),
        ("1e3", "must not use an exponent"),
        ("1E+3", "must not use an exponent"),
        ("+5", "must not have a sign"),
        ("-5", "must not be negative"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("-inf", "finite"),
        ("\u0661\u0662\u0663", "ASCII digits"),
        ("\uff11\uff12\uff13", "ASCII digits"),
        ("²", "ASCII digits"),
        ("10000.000", "more than 2 decimal places (zeros included)"),
        ("10000.001", "more than 2 decimal places"),
        ("0.100", "more than 2 decimal places"),
        (".5", "not a plain decimal number"),
        ("25.", "not a plain decimal number"),
        ("", "not a plain decimal number"),
        ("Rp 5000", "not a plain decimal number"),
        ("1" * 41, "too long"),
        ("12345678901234", "more than 13 integer digits"),
    ],
)
def test_amount_string_outside_the_grammar_is_refused_with_a_hint(given: str, hint: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_amount(given, field="amount.value")
    assert info.value.field == "amount.value"
    assert hint in info.value.rule


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        ("25000", "25000.00"),
        (" 25000 ", "25000.00"),
        ("\t25000.5\n", "25000.50"),
        ("0.01", "0.01"),
        ("007", "7.00"),
        ("1234567890123.99", "1234567890123.99"),
    ],
)
def test_plain_amount_strings_are_sent_exactly(given: str, wire: str) -> None:
    assert Amount.of(given).to_wire()["value"] == wire


# -- to_amount: Decimal, int, float ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        (Decimal("25.000"), "pass 25000"),
        (Decimal("10000.000"), "more than 2 decimal places"),
        (Decimal("1E-3"), "more than 2 decimal places"),
        (Decimal("-0"), "negative"),
        (Decimal("-5"), "negative"),
        (Decimal("NaN"), "finite"),
        (Decimal("sNaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("1E+13"), "more than 13 integer digits"),
        (-5, "negative"),
        (10**13, "more than 13 integer digits"),
        (10**4000, "more than 13 integer digits"),
        (0.1 + 0.2, "pass a str or Decimal"),
        (10000.001, "pass a str or Decimal"),
        (1e20, "not a plain decimal"),
        (1e13, "more than 13 integer digits"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (-0.0, "negative"),
        (True, "bool"),
    ],
)
def test_non_string_amounts_are_refused_when_not_exact(given: object, hint: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_amount(given, field="amount.value")
    assert info.value.field == "amount.value"
    assert hint in info.value.rule


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        (10000.5, "10000.50"),
        (100.0, "100.00"),
        (0.3, "0.30"),
        (1234567890123.45, "1234567890123.45"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("25.00"), "25.00"),
        (25000, "25000.00"),
    ],
)
def test_exact_numbers_are_sent_exactly(given: object, wire: str) -> None:
    assert Amount.of(given).to_wire()["value"] == wire


def test_a_huge_decimal_exponent_is_refused_at_once() -> None:
    start = time.perf_counter()
    for value in (Decimal("1E+999999"), Decimal("1E+999999999"), Decimal("1E-999999")):
        with pytest.raises(ValidationError):
            to_amount(value)
    assert time.perf_counter() - start < 0.1


def test_an_amount_object_is_checked_again() -> None:
    with pytest.raises(ValidationError, match="pass 25000"):
        QrisGenerateRequest(partner_reference_no="R-1", amount=Amount(value=Decimal("25.000")))


# -- every product path, keyword and request-model forms -------------------------------------

Call = Callable[[AyolinxClient, Any], Awaitable[object]]


async def _qris(client: AyolinxClient, amount: Any) -> object:
    return await client.qris.generate(partner_reference_no="R-1", amount=amount)


async def _va(client: AyolinxClient, amount: Any) -> object:
    return await client.virtual_accounts.create(
        channel="VIRTUAL_ACCOUNT_BNI",
        trx_id="T-1",
        customer_no="12345",
        virtual_account_name="Budi",
        total_amount=amount,
    )


async def _dana(client: AyolinxClient, amount: Any) -> object:
    return await client.ewallet.create_payment(partner_reference_no="R-1", amount=amount)


async def _retail(client: AyolinxClient, amount: Any) -> object:
    return await client.retail.create(
        partner_reference_no="R-1",
        amount=amount,
        channel="RETAIL_ALFAMIDI",
        valid_up_to=EXPIRY,
        customer_name="Budi",
        customer_email="budi@example.com",
    )


async def _link(client: AyolinxClient, amount: Any) -> object:
    return await client.payment_links.create(
        partner_reference_no="R-1", items=[PaymentLinkItem(name="Kopi", price=amount)]
    )


def _qris_model(amount: Any) -> object:
    return QrisGenerateRequest(partner_reference_no="R-1", amount=amount)


def _va_model(amount: Any) -> object:
    return VirtualAccountCreateRequest(
        partner_service_id="98829172",
        customer_no="12345",
        virtual_account_name="Budi",
        trx_id="T-1",
        channel="VIRTUAL_ACCOUNT_BNI",
        total_amount=amount,
    )


def _dana_model(amount: Any) -> object:
    return EwalletPaymentRequest(partner_reference_no="R-1", amount=amount)


def _retail_model(amount: Any) -> object:
    return RetailCreateRequest(
        partner_reference_no="R-1",
        amount=amount,
        channel="RETAIL_ALFAMIDI",
        valid_up_to=EXPIRY,
        customer_name="Budi",
        customer_email="budi@example.com",
    )


def _link_model(amount: Any) -> object:
    return PaymentLinkCreateRequest(
        partner_reference_no="R-1", items=[PaymentLinkItem(name="Kopi", price=amount)]
    )


KEYWORD_CALLS = [_qris, _va, _dana, _retail, _link]
MODELS = [_qris_model, _va_model, _dana_model, _retail_model, _link_model]
HOSTILE = [
    "25.000",
    "1.500.000",
    "25.000,50",
    "25,000",
    "\u0661\u0662\u0663",
    "5_000",
    "1e3",
    0.1 + 0.2,
]


@pytest.mark.anyio
@pytest.mark.parametrize("call", KEYWORD_CALLS)
@pytest.mark.parametrize("amount", HOSTILE)
async def test_every_product_refuses_ambiguous_amounts_before_sending(
    credentials: Credentials, call: Call, amount: object
) -> None:
    client, wire = make_client(credentials, {"responseCode": "2000000"})
    async with client:
        with pytest.raises(ValidationError):
            await call(client, amount)
    assert wire.total_requests == 0


@pytest.mark.parametrize("build", MODELS)
def test_every_request_model_gives_the_thousands_hint(build: Callable[[Any], object]) -> None:
    with pytest.raises(ValidationError, match="looks like an Indonesian thousands separator"):
        build("25.000")
    with pytest.raises(ValidationError, match="looks like an Indonesian thousands separator"):
        build(Decimal("1.500"))


@pytest.mark.parametrize("build", MODELS)
def test_every_request_model_accepts_an_exact_float(build: Callable[[Any], object]) -> None:
    assert build(25000.0) is not None


# -- property: the wire value is the intended amount, or ValidationError ---------------------

_STRICT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_LIMIT = Decimal(10) ** 13


def _intended(value: object) -> Decimal | None:
    """What the user means, decided without the SDK; ``None`` when there is no exact meaning
    (or it is out of range), so a ``ValidationError`` is the only right answer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip(" \t\r\n")
        meant = Decimal(text) if _STRICT.fullmatch(text) else None
    elif isinstance(value, int):
        meant = Decimal(value)
    elif isinstance(value, float):
        text = repr(value)  # what a person typed is the shortest repr
        meant = Decimal(text) if _STRICT.fullmatch(text) else None
    else:
        assert isinstance(value, Decimal)
        exponent = value.as_tuple().exponent
        finite = value.is_finite() and isinstance(exponent, int) and exponent >= -2
        meant = value if finite and not value.is_signed() and value < _LIMIT else None
    if meant is None or not 0 < meant < _LIMIT:
        return None
    return meant


_DIGITISH = "0123456789.,_eE+- ²①\u0661\u0662\u0663\u0660\u0669\uff10\uff11"
_grouped = st.builds(
    lambda head, groups, sep, cents: (
        head + "".join(sep + group for group in groups) + (cents or "")
    ),
    st.from_regex(r"[1-9][0-9]{0,2}", fullmatch=True),
    st.lists(st.from_regex(r"[0-9]{3}", fullmatch=True), min_size=1, max_size=4),
    st.sampled_from([".", ","]),
    st.one_of(st.none(), st.from_regex(r"[.,][0-9]{1,3}", fullmatch=True)),
)
_strings = st.one_of(
    st.from_regex(r" ?[0-9]{1,15}(\.[0-9]{0,4})? ?", fullmatch=True),
    _grouped,
    st.text(alphabet=_DIGITISH, max_size=14),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8),
)
_decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=0, max_value=10**14, places=3),
    st.builds(
        lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
        st.integers(min_value=0, max_value=10**6),
        st.integers(min_value=-6, max_value=20),
    ),
)
_floats = st.one_of(
    st.floats(),
    st.integers(min_value=0, max_value=10**9).map(lambda cents: cents / 100),
    st.decimals(min_value=0, max_value=10**13, places=2).map(float),
)
_amount_inputs = st.one_of(
    _strings, _decimals, _floats, st.integers(min_value=-(10**15), max_value=10**15)
)


@settings(max_examples=1500, deadline=None)
@given(value=_amount_inputs, product=st.sampled_from(MODELS[:4]))
def test_wire_amount_is_the_intended_amount_or_validation_error(
    value: object, product: Callable[[Any], Any]
) -> None:
    meant = _intended(value)
    try:
        request = product(value)
    except ValidationError:
        assert meant is None, f"{value!r} means {meant} and was refused"
        return
    body = request.to_wire()
    sent = (body.get("amount") or body["totalAmount"])["value"]
    assert meant is not None, f"{value!r} has no exact meaning but {sent} was sent"
    assert sent == f"{meant:.2f}"
    assert Decimal(sent) == meant
    if isinstance(value, float):
        assert float(sent) == value  # the same double the caller held


@settings(max_examples=300, deadline=None)
@given(value=_amount_inputs)
def test_payment_link_prices_are_whole_and_exact_or_refused(value: object) -> None:
    meant = _intended(value)
    try:
        item = PaymentLinkItem(name="Kopi", price=value)  # type: ignore[arg-type]
    except ValidationError:
        assert meant is None or meant != meant.to_integral_value()
        return
    assert meant is not None
    assert meant == meant.to_integral_value()
    assert item.to_wire()["price"] == f"{meant:.0f}"

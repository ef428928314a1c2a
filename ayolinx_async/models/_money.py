"""Money: request amounts validated without ever rounding, response amounts read totally."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from .._errors import ValidationError

__all__ = [
    "Amount",
    "AmountInput",
    "check_idr",
    "coerce_amount",
    "parse_amount",
    "parse_currency",
    "plain_idr",
    "render_amount",
    "to_amount",
    "to_request_amount",
]


_MAX_INTEGER_DIGITS = 13  # SNAP amount is 16,2
#: The one accepted spelling of an amount string (ASCII only; ``\d`` would take '١٢٣').
_PLAIN = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_ID_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
_ID_GROUPED_DECIMALS = re.compile(r"([1-9][0-9]{0,2}(?:\.[0-9]{3})+),([0-9]{1,2})")
_EN_GROUPED = re.compile(r"([1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.([0-9]{1,2}))?")
_DECIMAL_COMMA = re.compile(r"([0-9]+),([0-9]{1,2})")
_EXPONENT = re.compile(r"[0-9]*\.?[0-9]*[eE][+-]?[0-9]+")
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_MAX_AMOUNT_TEXT = 40  # longer strings are refused before any parsing


def to_amount(
    value: object,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    places: int = 2,
) -> Decimal:
    """Convert ``value`` to a validated, non-negative Decimal; nothing is ever rounded.

    A ``str`` must be ASCII ``[0-9]+(.[0-9]{1,2})?`` (surrounding spaces ignored): ``"25.000"``,
    ``"1.500.000"``, ``"25,000"``, ``"5_000"``, ``"1e3"`` and non-ASCII digits are refused with a
    hint. An ``int`` or ``Decimal`` is taken as is. A ``float`` is accepted only when its shortest
    ``repr`` is such a plain decimal (``10000.5`` is Rp 10000.50); ``0.1 + 0.2`` or ``1e20`` are
    refused: pass a ``str`` or ``Decimal``. More than ``places`` decimals (zeros included), more
    than 13 integer digits, negatives, non-finite values and zero (unless allowed) raise
    ``ValidationError`` naming ``field``.
    """
    if isinstance(value, bool):
        raise ValidationError(field, "must be a number, not a bool")
    if isinstance(value, Decimal):
        amount = _checked(value, field=field, places=places)
    elif isinstance(value, int):
        amount = _int_amount(value, field=field)
    elif isinstance(value, float):
        amount = _float_amount(value, field=field, places=places)
    elif isinstance(value, str):
        amount = _text_amount(value, field=field, places=places)
    else:
        raise ValidationError(
            field, f"must be Decimal, int, str or float, not {type(value).__name__}"
        )
    if amount == 0 and not allow_zero:
        raise ValidationError(field, "must be greater than zero")
    return amount


def _checked(amount: Decimal, *, field: str, places: int) -> Decimal:
    """Refuse a non-finite, negative, over-precise or too large Decimal without expanding it."""
    if not amount.is_finite():
        raise ValidationError(field, "must be a finite number")
    if amount.is_signed():
        raise ValidationError(field, "must not be negative")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValidationError(field, _too_many_places(str(amount), places))
    # adjusted() reads the exponent only, so Decimal("1E+999999") is refused at once.
    if amount and amount.adjusted() >= _MAX_INTEGER_DIGITS:
        raise ValidationError(field, f"has more than {_MAX_INTEGER_DIGITS} integer digits")
    return amount


def _int_amount(value: int, *, field: str) -> Decimal:
    if value < 0:
        raise ValidationError(field, "must not be negative")
    if value.bit_length() > 64:  # far past 13 digits; refused before any conversion
        raise ValidationError(field, f"has more than {_MAX_INTEGER_DIGITS} integer digits")
    return _checked(Decimal(value), field=field, places=0)


def _float_amount(value: float, *, field: str, places: int) -> Decimal:
    """A float counts only when its shortest repr is a plain decimal with ≤ ``places`` decimals
    and ≤ 13 integer digits (≤ 15 significant digits, which a double always keeps exactly)."""
    if not math.isfinite(value):
        raise ValidationError(field, "must be a finite number")
    text = repr(value)
    if text.startswith("-"):
        raise ValidationError(field, "must not be negative")
    match = _PLAIN.fullmatch(text)
    if match is None:
        raise ValidationError(
            field, f"float {text} is not a plain decimal; pass an int, str or Decimal"
        )
    decimals = match.group(2) or ""
    if len(decimals) > places:
        raise ValidationError(
            field,
            f"float {text} is not exact at {places} decimals (floats are binary fractions);"
            " pass a str or Decimal with the amount you mean",
        )
    return _checked(Decimal(text), field=field, places=places)


def _text_amount(value: str, *, field: str, places: int) -> Decimal:
    text = value.strip(" \t\r\n")
    if len(text) > _MAX_AMOUNT_TEXT:
        raise ValidationError(field, f"is too long to be an amount ({len(text)} characters)")
    match = _PLAIN.fullmatch(text)
    if match is None:
        raise ValidationError(field, _text_hint(text))
    if len(match.group(2) or "") > places:
        raise ValidationError(field, _too_many_places(text, places))
    if len(match.group(1).lstrip("0")) > _MAX_INTEGER_DIGITS:
        raise ValidationError(field, f"has more than {_MAX_INTEGER_DIGITS} integer digits")
    return _checked(Decimal(text), field=field, places=places)


def _too_many_places(text: str, places: int) -> str:
    """Why an amount with too many decimals is refused, with the likely intent when known."""
    if _ID_GROUPED.fullmatch(text):
        return (
            f'"{text}" looks like an Indonesian thousands separator; pass {text.replace(".", "")}'
        )
    return (
        f'"{text}" has more than {places} decimal places (zeros included);'
        " amounts are never rounded"
    )


def _text_hint(text: str) -> str:
    """Why an amount string is not ``[0-9]+(.[0-9]{1,2})?``, and what to pass instead."""
    if not text.isascii():
        return f"{_shown(text)} must be written with ASCII digits 0-9 and an optional '.'"
    if "_" in text:
        return f'"{text}" must not contain "_"; pass {text.replace("_", "")}'
    if text.lstrip("+-").lower() in _NOT_FINITE:
        return "must be a finite number"
    if text.startswith("-"):
        return "must not be negative"
    if text.startswith("+"):
        return f'"{text}" must not have a sign; pass {text[1:]}'
    if _EXPONENT.fullmatch(text):
        return f'"{text}" must not use an exponent; write the plain number'
    if _ID_GROUPED.fullmatch(text):
        return (
            f'"{text}" looks like an Indonesian thousands separator; pass {text.replace(".", "")}'
        )
    grouped = _ID_GROUPED_DECIMALS.fullmatch(text)
    if grouped is not None:
        whole, cents = grouped.groups()
        return (
            f"\"{text}\" looks like Indonesian formatting ('.' groups thousands, ',' marks"
            f' decimals); pass "{whole.replace(".", "")}.{cents}"'
        )
    grouped = _EN_GROUPED.fullmatch(text)
    if grouped is not None:
        whole, cents = grouped.groups()
        plain = whole.replace(",", "") + (f".{cents}" if cents else "")
        if cents is None and whole.count(",") == 1:
            # "25,000" is 25 thousand in English but 25 with a decimal comma in Indonesian.
            head = whole.partition(",")[0]
            return f'"{text}" is ambiguous; pass "{plain}" (or "{head}" if "," was a decimal comma)'
        return f'"{text}" groups thousands with ","; pass "{plain}" without separators'
    comma = _DECIMAL_COMMA.fullmatch(text)
    if comma is not None:
        return f'"{text}" uses a decimal comma; pass "{comma.group(1)}.{comma.group(2)}"'
    return f"{_shown(text)} is not a plain decimal number (digits, optionally '.' and 1-2 decimals)"


def _shown(text: str) -> str:
    """A refused input quoted for a message, cut short."""
    return repr(text if len(text) <= 24 else text[:24] + "…")


#: Response amounts: ASCII digits, an optional sign and at most 2 decimals (docs/protocol.md §7).
_WIRE_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
_WIRE_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?")
_MAX_WIRE_DIGITS = 18  # generous for responses; bounds every conversion


def parse_amount(value: object) -> Decimal | None:
    """Read an amount from a response leniently: ``"10000.00"``, ``10000``, ``"1,234.00"``.

    Total: anything else (``"20.000,00"``, ``"²"``, ``NaN``, ``1E+999999``, 3 decimals) is
    ``None`` rather than a guess or an exception (docs/protocol.md §7).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) if value.bit_length() <= 60 else None
    if isinstance(value, Decimal):
        return _wire_decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > _MAX_AMOUNT_TEXT:
        return None
    if _WIRE_GROUPED.fullmatch(text):
        text = text.replace(",", "")
    # More than 2 decimals is not a SNAP amount: "20.000" is Indonesian for Rp 20,000, and
    # reading it as Rp 20 would be a guess that moves money.
    if not _WIRE_AMOUNT.fullmatch(text):
        return None
    return _wire_decimal(Decimal(text))


def _wire_decimal(value: Decimal) -> Decimal | None:
    """A finite Decimal with at most 2 decimals and a bounded size, else ``None``."""
    if not value.is_finite():
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return None
    if value and value.adjusted() >= _MAX_WIRE_DIGITS:
        return None
    return value


_CURRENCY = re.compile(r"[A-Z]{3}")
#: A wire amount :func:`parse_amount` accepts unchanged: unsigned, at most 18 integer digits.
_PLAIN_IDR = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,2})?")


@attrs.frozen(kw_only=True, slots=True)
class Amount:
    """Money as SNAP sends it: ``{"value": "10000.00", "currency": "IDR"}``."""

    value: Decimal
    currency: str = "IDR"

    @classmethod
    def of(
        cls,
        value: object,
        currency: str = "IDR",
        *,
        field: str = "amount",
        allow_zero: bool = False,
        allow_non_idr: bool = False,
    ) -> Amount:
        """Validate and build an amount for a request (see :func:`to_amount`)."""
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise ValidationError(f"{field}.currency", "must be a 3-letter ISO 4217 code")
        if currency != "IDR" and not allow_non_idr:
            raise ValidationError(f"{field}.currency", "only IDR is supported by Ayolinx")
        return cls(
            value=to_amount(value, field=f"{field}.value", allow_zero=allow_zero), currency=currency
        )

    def to_wire(self) -> dict[str, str]:
        return {"value": f"{self.value:.2f}", "currency": self.currency}

    @classmethod
    def from_wire(cls, data: object) -> Amount | None:
        """Parse a wire amount (responses and callbacks); ``None`` if absent or unreadable."""
        if type(data) is dict:
            # The usual shape, ``{"value": "10000.00", "currency": "IDR"}``, read directly:
            # every typed response and callback has one.
            text = data.get("value")
            if type(text) is str and data.get("currency") == "IDR" and cls is Amount:
                plain = plain_idr(text)
                if plain is not None:
                    return plain
        if not isinstance(data, Mapping):
            return None
        value = parse_amount(data.get("value"))
        currency = parse_currency(data.get("currency"))
        if value is None or currency is None:
            return None
        return cls(value=value, currency=currency)


@functools.lru_cache(maxsize=1024)
def plain_idr(text: str) -> Amount | None:
    """A plain rupiah wire value as an :class:`Amount`, or ``None``. Shared (an ``Amount`` is
    immutable): responses and callbacks repeat a few price points, and the regex, ``Decimal``
    and frozen ``__init__`` cost a fifth of reading a typed response (issue 15)."""
    return Amount(value=Decimal(text), currency="IDR") if _PLAIN_IDR.fullmatch(text) else None


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code from the wire, upper-cased; IDR when absent or empty (Ayolinx settles in
    rupiah), ``None`` when it is not three ASCII letters."""
    if value is None or value == "":
        return "IDR"
    if not isinstance(value, str):
        return None
    text = value.strip()
    # ASCII first: upper() maps some non-ASCII letters to ASCII ones.
    return text.upper() if text.isascii() and _CURRENCY.fullmatch(text.upper()) else None


#: What a money argument accepts: an :class:`Amount`, or a value for :meth:`Amount.of` (IDR).
AmountInput: TypeAlias = Amount | Decimal | int | str | float


def coerce_amount(
    value: object, *, field: str, allow_zero: bool = False, allow_non_idr: bool = False
) -> Amount:
    """Turn a money argument into a validated :class:`Amount` (an ``Amount`` is re-checked).

    Non-IDR currencies are refused unless ``allow_non_idr``; the error names ``field``.
    """
    if isinstance(value, Amount):
        return Amount.of(
            value.value,
            value.currency,
            field=field,
            allow_zero=allow_zero,
            allow_non_idr=allow_non_idr,
        )
    return Amount.of(value, field=field, allow_zero=allow_zero, allow_non_idr=allow_non_idr)


def to_request_amount(value: AmountInput) -> Amount:
    """attrs converter for a request's ``amount``: any ISO currency converts, so that the
    model's ``allow_non_idr`` (checked after construction) decides whether it may be sent."""
    return coerce_amount(value, field="amount", allow_non_idr=True)


def check_idr(amount: Amount | None, *, field: str, allow_non_idr: bool) -> None:
    """Ayolinx settles in rupiah: another currency needs the model's ``allow_non_idr=True``."""
    if amount is not None and amount.currency != "IDR" and not allow_non_idr:
        raise ValidationError(
            f"{field}.currency", "only IDR is supported by Ayolinx (set allow_non_idr=True)"
        )


def render_amount(_: Any, __: attrs.Attribute[Any], value: Amount | None) -> dict[str, str] | None:
    """Wire renderer for an :class:`Amount` field (``None`` is not sent)."""
    return value.to_wire() if value is not None else None

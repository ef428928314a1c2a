"""Value types shared by every product: money, open enums, URL parameters, times.

Enums are *open* (spec §0): a value Ayolinx adds tomorrow is kept, not rejected, and
``is_known`` tells the two apart.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Self

import attrs

from .._wire import JAKARTA
from ..errors import ValidationError

__all__ = [
    "Amount",
    "Channel",
    "TransactionStatus",
    "UrlParam",
    "UrlParamType",
    "format_jakarta",
    "parse_amount",
    "parse_time",
    "to_amount",
]


class _OpenStrEnum(enum.StrEnum):
    """A string enum that keeps unknown values as pseudo-members instead of raising."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        return self._name_ != "UNKNOWN"


class TransactionStatus(_OpenStrEnum):
    """``latestTransactionStatus`` (spec §8). Compare with ``==``; unknown codes pass through."""

    SUCCESS = "00"
    INITIATED = "01"
    PAYING = "02"
    PENDING = "03"
    REFUNDED = "04"
    CANCELED = "05"
    FAILED = "06"
    NOT_FOUND = "07"

    @property
    def is_terminal(self) -> bool:
        """True for a final state (00, 04, 05, 06); unknown codes are not assumed final."""
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        return self is TransactionStatus.SUCCESS


_TERMINAL = frozenset(
    {
        TransactionStatus.SUCCESS,
        TransactionStatus.REFUNDED,
        TransactionStatus.CANCELED,
        TransactionStatus.FAILED,
    }
)


class Channel(_OpenStrEnum):
    """``additionalInfo.channel`` codes seen on Ayolinx pages and integrations (spec §9)."""

    BNC_QRIS = "BNC_QRIS"
    EMONEY_DANA_SNAP = "EMONEY_DANA_SNAP"
    VIRTUAL_ACCOUNT_BNI = "VIRTUAL_ACCOUNT_BNI"
    VIRTUAL_ACCOUNT_CIMB = "VIRTUAL_ACCOUNT_CIMB"
    VIRTUAL_ACCOUNT_MANDIRI = "VIRTUAL_ACCOUNT_MANDIRI"
    VIRTUAL_ACCOUNT_BRI = "VIRTUAL_ACCOUNT_BRI"
    VIRTUAL_ACCOUNT_BCA = "VIRTUAL_ACCOUNT_BCA"
    VIRTUAL_ACCOUNT_PERMATA = "VIRTUAL_ACCOUNT_PERMATA"
    RETAIL_ALFAMART = "RETAIL_ALFAMART"
    RETAIL_ALFAMIDI = "RETAIL_ALFAMIDI"
    RETAIL_PEGADAIAN = "RETAIL_PEGADAIAN"
    RETAIL_POS_INDONESIA = "RETAIL_POS_INDONESIA"
    RETAIL_DANDAN = "RETAIL_DANDAN"

    @property
    def is_virtual_account(self) -> bool:
        return self.value.startswith("VIRTUAL_ACCOUNT_")

    @property
    def is_retail(self) -> bool:
        return self.value.startswith("RETAIL_")


class UrlParamType(_OpenStrEnum):
    """``urlParams[].type``: where callbacks go, and where the payer's browser returns."""

    NOTIFICATION = "NOTIFICATION"
    PAY_RETURN = "PAY_RETURN"


_MAX_INTEGER_DIGITS = 13  # SNAP amount is 16,2


def to_amount(
    value: object,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    places: int = 2,
) -> Decimal:
    """Convert ``value`` (Decimal, int, str or float) to a validated, non-negative Decimal.

    Raises ``ValidationError`` naming ``field`` for garbage, negatives, zero (unless allowed),
    more than ``places`` decimals, or more than 13 integer digits.
    """
    if isinstance(value, bool):
        raise ValidationError(field, "must be a number, not a bool")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # the shortest repr, so 10.1 stays 10.1
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(field, f"{value!r} is not a decimal number") from None
    else:
        raise ValidationError(field, f"must be Decimal, int or str, not {type(value).__name__}")
    if not amount.is_finite():
        raise ValidationError(field, "must be a finite number")
    if amount < 0:
        raise ValidationError(field, "must not be negative")
    if amount == 0 and not allow_zero:
        raise ValidationError(field, "must be greater than zero")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValidationError(field, f"has more than {places} decimal places")
    if amount.adjusted() >= _MAX_INTEGER_DIGITS:
        raise ValidationError(field, f"has more than {_MAX_INTEGER_DIGITS} integer digits")
    return amount


_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_amount(value: object) -> Decimal | None:
    """Read an amount from a response leniently: ``"10000.00"``, ``10000``, ``"1,234.00"``.

    Anything else (e.g. ``"20.000,00"``) returns ``None`` rather than a guess (notes §8.3).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    try:
        result = Decimal(text)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


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
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
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
        """Parse a response amount; ``None`` if absent or unreadable."""
        if not isinstance(data, Mapping):
            return None
        value = parse_amount(data.get("value"))
        if value is None:
            return None
        return cls(value=value, currency=str(data.get("currency") or "IDR"))


@attrs.frozen(kw_only=True, slots=True)
class UrlParam:
    """One ``urlParams`` entry: a callback URL (NOTIFICATION) or browser return URL."""

    url: str
    type: UrlParamType = UrlParamType.NOTIFICATION

    def to_wire(self) -> dict[str, str]:
        return {"url": self.url, "type": str(self.type)}

    @classmethod
    def notification(cls, url: str) -> Self:
        return cls(url=url, type=UrlParamType.NOTIFICATION)

    @classmethod
    def pay_return(cls, url: str) -> Self:
        return cls(url=url, type=UrlParamType.PAY_RETURN)


def format_jakarta(moment: datetime, *, field: str) -> str:
    """Render an aware datetime as ``yyyy-MM-ddTHH:mm:ss+07:00``; naive ones are refused."""
    if not isinstance(moment, datetime):
        raise ValidationError(field, "must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def parse_time(value: object) -> datetime | None:
    """Parse a response time: ISO-8601 with offset, or Unix seconds (number or digit string).

    Returns ``None`` for anything else; the raw value stays in the model's ``raw`` body.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = int(text)
        if seconds > 10**11:  # milliseconds
            seconds //= 1000
        return datetime.fromtimestamp(seconds, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JAKARTA)

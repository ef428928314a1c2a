"""Value types shared by every product: money, open enums, URL parameters, times.

Enums are *open* (spec §0): a value Ayolinx adds tomorrow is kept, not rejected, and
``is_known`` tells the two apart.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol, Self, TypeAlias

import attrs

from .._errors import ResponseCode, ValidationError
from .._response import APIResponse
from .._wire import JAKARTA

__all__ = [
    "Amount",
    "AmountInput",
    "Channel",
    "ResponseModel",
    "TransactionStatus",
    "TransactionStatusResponse",
    "UrlParam",
    "UrlParamType",
    "ValidUpToFormat",
    "coerce_amount",
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


#: Response amounts: ASCII digits, an optional sign and at most 2 decimals (notes §8.3).
_WIRE_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
_WIRE_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?")
_MAX_WIRE_DIGITS = 18  # generous for responses; bounds every conversion


def parse_amount(value: object) -> Decimal | None:
    """Read an amount from a response leniently: ``"10000.00"``, ``10000``, ``"1,234.00"``.

    Total: anything else (``"20.000,00"``, ``"²"``, ``NaN``, ``1E+999999``, 3 decimals) is
    ``None`` rather than a guess or an exception (notes §8.3).
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
        """Parse a response amount; ``None`` if absent or unreadable (value or currency)."""
        if not isinstance(data, Mapping):
            return None
        value = parse_amount(data.get("value"))
        currency = data.get("currency") or "IDR"
        if not isinstance(currency, str):
            return None
        currency = currency.strip().upper()
        if value is None or not _CURRENCY.fullmatch(currency):
            return None
        return cls(value=value, currency=currency)


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

    Total: anything else (``"²"``, ``NaN``, ``1E+999999``, objects) is ``None``; the raw value
    stays in the model's ``raw`` body.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _from_epoch(float(value)) if value.bit_length() <= 60 else None
    if isinstance(value, Decimal):
        finite = value.is_finite() and (not value or value.adjusted() < 20)
        return _from_epoch(float(value)) if finite else None
    if isinstance(value, float):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    # ASCII only: '²'.isdigit() is True but float('²') raises.
    if not text or len(text) > 64 or not text.isascii():
        return None
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JAKARTA)


_EPOCH_TEXT = re.compile(r"[0-9]{1,18}")


def _from_epoch(seconds: float) -> datetime | None:
    """Unix seconds (or milliseconds, if implausibly large) as UTC; ``None`` if out of range."""
    if not math.isfinite(seconds):
        return None
    if seconds > 1e11:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# -- request-side helpers shared by the product models -------------------------------------------

#: What a money argument accepts: an :class:`Amount`, or a value for :meth:`Amount.of` (IDR).
AmountInput: TypeAlias = Amount | Decimal | int | str | float

#: The character rules :func:`check_text` knows.
TextKind: TypeAlias = Literal["text", "reference", "email", "phone", "digits", "url"]
_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: References travel in headers, URLs and callbacks: visible ASCII only, no spaces.
_REFERENCE = re.compile(r"^[\x21-\x7e]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_URL = re.compile(r"^https?://[^\s]+$")
_TEXT_RULES: dict[TextKind, tuple[re.Pattern[str] | None, str]] = {
    "text": (None, ""),
    "reference": (_REFERENCE, "must be visible ASCII without spaces"),
    "email": (_EMAIL, "must be an e-mail address"),
    "phone": (_PHONE, "must be digits, optionally after a leading '+'"),
    "digits": (_DIGITS, "must be digits only"),
    "url": (_URL, "must be an http(s) URL without spaces"),
}


def check_text(value: object, *, field: str, max_length: int, kind: TextKind = "text") -> str:
    """Validate one request string: a ``str``, not blank, no control characters, at most
    ``max_length`` characters (SNAP lengths, spec §11.6) and matching ``kind``'s pattern."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValidationError(field, "is required and must not be blank")
    if _CONTROL.search(value):
        raise ValidationError(field, "must not contain control characters")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters (got {len(value)})")
    pattern, rule = _TEXT_RULES[kind]
    if pattern is not None and not pattern.match(value):
        raise ValidationError(field, rule)
    return value


def text_field(max_length: int, *, kind: TextKind = "text") -> _Validator:
    """An attrs validator for a required string field (the error names the field)."""

    def _validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_text(value, field=attribute.name, max_length=max_length, kind=kind)

    return _validate


def optional_text_field(max_length: int, *, kind: TextKind = "text") -> _Validator:
    """Like :func:`text_field`, but ``None`` (meaning "do not send") is allowed."""
    required = text_field(max_length, kind=kind)

    def _validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            required(instance, attribute, value)

    return _validate


def instance_field(kind: type, *, optional: bool = False) -> _Validator:
    """attrs validator: an instance of ``kind`` (or ``None`` if ``optional``), as a
    ``ValidationError`` naming the field rather than attrs' ``TypeError``."""

    def _validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            raise ValidationError(
                attribute.name, f"must be a {kind.__name__}, not {type(value).__name__}"
            )

    return _validate


def aware_datetime(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: an aware ``datetime`` (naive ones are ambiguous and refused)."""
    format_jakarta(value, field=attribute.name)


def optional_aware_datetime(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: ``None`` or an aware ``datetime``."""
    if value is not None:
        aware_datetime(instance, attribute, value)


class ValidUpToFormat(enum.Enum):
    """How an expiry such as ``validUpTo`` is rendered where the docs disagree (spec §13.14)."""

    #: ``"1746249942"``: Unix seconds as a string, what working DANA integrations send.
    UNIX_SECONDS = "unix_seconds"
    #: ``"2025-05-03T12:25:42+07:00"``: the SNAP / ISO-8601 reading, in Jakarta time.
    ISO_8601 = "iso_8601"


def render_valid_up_to(moment: datetime, style: ValidUpToFormat, *, field: str) -> str:
    """Render an aware expiry in ``style``; naive datetimes are refused naming ``field``."""
    text = format_jakarta(moment, field=field)
    if style is ValidUpToFormat.ISO_8601:
        return text
    return str(int(moment.timestamp()))


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


def to_channel(value: Channel | str) -> Channel:
    """attrs converter for ``channel``: any non-blank code, known or not (open enum)."""
    check_text(value, field="channel", max_length=64, kind="reference")
    return Channel(value)


def to_url_params(value: Iterable[UrlParam]) -> tuple[UrlParam, ...]:
    """attrs converter for ``url_params``: a tuple of :class:`UrlParam` with http(s) URLs."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("url_params", "must be a sequence of UrlParam")
    params = tuple(value)
    for index, param in enumerate(params):
        if not isinstance(param, UrlParam):
            raise ValidationError(f"url_params[{index}]", "must be a UrlParam")
        check_text(param.url, field=f"url_params[{index}].url", max_length=512, kind="url")
        check_text(param.type, field=f"url_params[{index}].type", max_length=32)
    return params


def to_additional_info(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """attrs converter for extra ``additionalInfo`` keys: a read-only copy of a JSON object."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValidationError("additional_info", "must be a mapping with string keys")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise ValidationError("additional_info", "must be JSON-serialisable") from None
    return MappingProxyType(dict(value))


def reserved_keys(*names: str) -> _Validator:
    """attrs validator: extra ``additionalInfo`` keys must not shadow keys a dedicated argument
    sets (``channel`` …); refusing is clearer than letting one silently win."""

    def _validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        for name in names:
            if name in value:
                raise ValidationError(
                    f"{attribute.name}.{name}", "is set by its own argument; use that instead"
                )

    return _validate


def merge_additional_info(
    fields: Mapping[str, str | None], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """``additionalInfo`` on the wire: the modelled keys first (``None`` dropped), then extras."""
    wire: dict[str, Any] = {key: value for key, value in fields.items() if value is not None}
    wire.update(extra)
    return wire


def put(body: dict[str, Any], key: str, value: Any) -> None:
    """Add an optional request field; ``None`` means "not sent" (never ``null`` on the wire)."""
    if value is not None:
        body[key] = value


def channel_info(channel: Channel, extra: Mapping[str, Any]) -> dict[str, Any]:
    """``additionalInfo`` on the wire when ``channel`` is its only modelled key."""
    return merge_additional_info({"channel": str(channel)}, extra)


class StatusQuery(Protocol):
    """A status-query request model (QRIS query, DANA status, VA inquiry, retail query)."""

    @property
    def original_partner_reference_no(self) -> str: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def additional_info(self) -> Mapping[str, Any]: ...
    def to_wire(self) -> dict[str, Any]: ...


def status_query_body(
    query: StatusQuery, *, original_reference_no: str | None = None
) -> dict[str, Any]:
    """The body every status query sends, in this order: your reference, Ayolinx's (for the
    products whose query takes it) and ``additionalInfo`` led by the channel."""
    body: dict[str, Any] = {"originalPartnerReferenceNo": query.original_partner_reference_no}
    put(body, "originalReferenceNo", original_reference_no)
    body["additionalInfo"] = channel_info(query.channel, query.additional_info)
    return body


# -- response-side helpers -------------------------------------------------------------------


def body_str(body: Mapping[str, Any], key: str) -> str | None:
    """A string field of a response (finite numbers are turned into text; anything else, and
    non-finite or absurdly long numbers, are ``None``)."""
    value = body.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # str() of an int past 4300 digits raises (CPython's conversion limit).
        return str(value) if value.bit_length() <= 10_000 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    return None


def body_mapping(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object of a response as a read-only mapping (empty when absent or not an object)."""
    value = body.get(key)
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else MappingProxyType({})


def unknown_fields(body: Mapping[str, Any], known: Iterable[str]) -> Mapping[str, Any]:
    """The top-level fields a model does not name, kept so nothing Ayolinx sends is lost."""
    names = {"responseCode", "responseMessage", *known}
    return MappingProxyType({key: value for key, value in body.items() if key not in names})


@attrs.frozen(kw_only=True, slots=True)
class ResponseModel:
    """The part every typed response shares.

    ``response`` is the whole :class:`~ayolinx_async.APIResponse` (decoded ``body``, headers,
    X-EXTERNAL-ID, attempts); ``raw`` is the exact body bytes, as everywhere in the SDK;
    ``extra`` holds the top-level fields the model does not name, so a field Ayolinx adds later
    is never lost.
    """

    response_code: ResponseCode
    response_message: str
    extra: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}), repr=False)
    response: APIResponse = attrs.field(repr=False)

    @property
    def body(self) -> Mapping[str, Any]:
        """The decoded JSON body exactly as received."""
        return self.response.body

    @property
    def raw(self) -> bytes:
        """The response body bytes exactly as received."""
        return self.response.raw

    @property
    def external_id(self) -> str | None:
        """The X-EXTERNAL-ID the call was sent with (quote it to Ayolinx support)."""
        return self.response.external_id


def response_fields(api: APIResponse, known: Iterable[str]) -> dict[str, Any]:
    """The :class:`ResponseModel` arguments every typed response takes from ``api``; top-level
    fields not in ``known`` go to ``extra``."""
    return {
        "response_code": api.response_code,
        "response_message": api.response_message,
        "response": api,
        "extra": unknown_fields(api.body, known),
    }


def parse_status(value: object) -> TransactionStatus | None:
    """``latestTransactionStatus`` as an open enum; numbers are zero-padded (``0`` → ``"00"``);
    other types are ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 60:
            return None
        value = f"{value:02d}"
    if not isinstance(value, str) or not value.strip():
        return None
    return TransactionStatus(value.strip())


def parse_channel(value: object) -> Channel | None:
    """A channel code from a response as an open enum; ``None`` when absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    return Channel(value.strip())


@attrs.frozen(kw_only=True, slots=True)
class TransactionStatusResponse(ResponseModel):
    """The shape shared by the status queries (QRIS query, DANA status, VA inquiry, retail
    query): references, ``latestTransactionStatus`` (spec §8) and the optional SNAP extras."""

    original_partner_reference_no: str | None = None
    original_reference_no: str | None = None
    latest_transaction_status: TransactionStatus | None = None
    transaction_status_desc: str | None = None
    amount: Amount | None = None
    finished_time: datetime | None = None
    paid_time: datetime | None = None
    channel: Channel | None = None
    additional_info: Mapping[str, Any] = attrs.field(
        factory=lambda: MappingProxyType({}), repr=False
    )

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "originalPartnerReferenceNo",
            "originalReferenceNo",
            "latestTransactionStatus",
            "transactionStatusDesc",
            "amount",
            "finishedTime",
            "paidTime",
            "additionalInfo",
        }
    )

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        """Build the typed status from a decoded response; unknown fields go to ``extra``."""
        return cls(**status_kwargs(api, cls._KNOWN))

    @property
    def is_final(self) -> bool:
        """True once the status can no longer change (00, 04, 05, 06)."""
        status = self.latest_transaction_status
        return status is not None and status.is_terminal

    @property
    def is_paid(self) -> bool:
        status = self.latest_transaction_status
        return status is not None and status.is_success


def status_kwargs(api: APIResponse, known: Iterable[str]) -> dict[str, Any]:
    """Constructor arguments of a :class:`TransactionStatusResponse` (for subclasses)."""
    body = api.body
    info = body_mapping(body, "additionalInfo")
    return {
        **response_fields(api, known),
        "original_partner_reference_no": body_str(body, "originalPartnerReferenceNo"),
        "original_reference_no": body_str(body, "originalReferenceNo"),
        "latest_transaction_status": parse_status(body.get("latestTransactionStatus")),
        "transaction_status_desc": body_str(body, "transactionStatusDesc"),
        "amount": Amount.from_wire(body.get("amount")),
        "finished_time": parse_time(body.get("finishedTime")),
        "paid_time": parse_time(body.get("paidTime")),
        "channel": parse_channel(info.get("channel")),
        "additional_info": info,
    }

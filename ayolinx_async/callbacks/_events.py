"""Typed callback events: one class per product's notify, plus the SNAP VA payment request.

Parsing is tolerant (spec §0): unknown statuses and channels pass through as open-enum values,
unknown fields are kept in ``extra`` / ``additional_info``, the decoded ``body`` and the exact
``raw`` bytes stay on every event. Only what deduplication and the paid amount need is mandatory:
an unusable mandatory field is a 400, an unreadable optional one is ``None`` (its raw text stays
in ``body``). Parsing never raises anything but :class:`CallbackRejected`.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, NoReturn

import attrs

from ..models._common import Amount, Channel, TransactionStatus, parse_time
from ._verify import CallbackRejected

__all__ = [
    "CallbackEvent",
    "EwalletNotification",
    "NotificationKind",
    "PaymentLinkNotification",
    "PaymentNotification",
    "QrisNotification",
    "RetailNotification",
    "VaPaymentRequest",
    "VirtualAccountNotification",
    "classify_notification",
    "decode_json_object",
    "parse_notification",
    "parse_va_payment",
]


class NotificationKind(enum.StrEnum):
    """Which product a notify belongs to (decides the event class)."""

    QRIS = "qris"
    EWALLET = "ewallet"
    VIRTUAL_ACCOUNT = "virtual_account"
    RETAIL = "retail"
    PAYMENT_LINK = "payment_link"
    UNKNOWN = "unknown"


#: No payment field needs a longer number or a larger exponent; bounding both before anything
#: converts them keeps ``1E+999999`` from becoming a million-digit integer on the event loop.
_MAX_NUMBER_CHARS = 64
_MAX_EXPONENT = 64
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _BadNumber(ValueError):
    """A JSON number no payment carries: NaN, Infinity, or absurdly long or large."""


def _refuse_constant(name: str) -> NoReturn:
    raise _BadNumber(name)


def _json_float(text: str) -> Decimal:
    """A JSON fraction as an exact ``Decimal``, refused when absurdly long or large."""
    if len(text) > _MAX_NUMBER_CHARS:
        raise _BadNumber(text[:16])
    value = Decimal(text)
    if abs(value.adjusted()) > _MAX_EXPONENT:
        raise _BadNumber(text[:16])
    return value


def _json_int(text: str) -> int:
    """A JSON integer, refused when longer than any payment field needs."""
    if len(text) > _MAX_NUMBER_CHARS:
        raise _BadNumber(text[:16])
    return int(text)


def _has_lone_surrogate(value: object) -> bool:
    """True if any string (key or value) holds a lone UTF-16 surrogate: not encodable text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _bad_body(detail: str) -> CallbackRejected:
    return CallbackRejected(400, "01", f"Invalid Field Format body {detail}", reason="bad_body")


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object from raw bytes; fractions become ``Decimal``. 400xx01 for anything
    else, including NaN/Infinity, numbers beyond 64 characters or exponent 64, and lone
    surrogates (an answer echoing them could not be encoded)."""
    try:
        value = json.loads(
            body,
            parse_float=_json_float,
            parse_int=_json_int,
            parse_constant=_refuse_constant,
        )
    except _BadNumber:
        raise _bad_body("has a non-finite or out-of-range number") from None
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _bad_body("is not JSON") from None
    if not isinstance(value, dict):
        raise _bad_body("is not a JSON object")
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        raise _bad_body("has an invalid unicode escape")
    return value


def _str(value: object) -> str | None:
    """A string field as sent; numbers are rendered, anything else (objects, null) is None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return None


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _channel(value: object) -> Channel | None:
    text = _str(value)
    return Channel(text) if text else None


#: Identifiers and codes travel in dedupe keys, logs and status queries: printable ASCII only.
_PRINTABLE = re.compile(r"[\x20-\x7e]+")
_AMOUNT_TEXT = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,2})?")
_GROUPED_AMOUNT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_MAX_INTEGER_DIGITS = 13  # SNAP amounts are 16,2


def _bad_field(name: str, reason: str = "bad_field") -> CallbackRejected:
    return CallbackRejected(400, "01", f"Invalid Field Format {name}", reason=reason)


def _identifier(body: Mapping[str, Any], name: str) -> str | None:
    """An identifier as sent, ``None`` if absent or blank; 400xx01 if it is not printable ASCII."""
    text = _str(body.get(name))
    if text is None or not text.strip():
        return None
    if not _PRINTABLE.fullmatch(text):
        raise _bad_field(name)
    return text


def _mandatory(body: Mapping[str, Any], *names: str) -> str:
    """The first non-empty of ``names``; 400xx02 naming the first one if none is present,
    400xx01 if any that is present is not printable ASCII."""
    found = [text for text in (_identifier(body, name) for name in names) if text is not None]
    if not found:
        raise CallbackRejected(
            400, "02", f"Invalid Mandatory Field {names[0]}", reason="missing_field"
        )
    return found[0]


def _amount_value(value: object) -> Decimal | None:
    """A callback amount (string or JSON number): at least zero, at most two decimals (zeros
    included: ``"20.000"`` is Indonesian for 20,000) and 13 integer digits; ``None`` otherwise."""
    if isinstance(value, str):
        text = value.strip()
        if _GROUPED_AMOUNT.fullmatch(text):
            text = text.replace(",", "")
        return Decimal(text) if _AMOUNT_TEXT.fullmatch(text) else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    # JSON numbers were bounded by decode_json_object, so this arithmetic is cheap.
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2 or amount < 0:
        return None
    return amount if amount.adjusted() < _MAX_INTEGER_DIGITS else None


def _currency(value: object) -> str | None:
    """An ISO 4217 code; IDR when absent (spec §12.2 examples), ``None`` when unreadable."""
    if value is None or value == "":
        return "IDR"
    return value.upper() if isinstance(value, str) and _CURRENCY.fullmatch(value) else None


def _amount(data: object, *, field: str, mandatory: bool) -> Amount | None:
    """``{"value", "currency"}`` as an :class:`Amount`; ``None`` when absent. An unreadable
    amount is a 400xx01 naming ``field`` when ``mandatory`` (never guess what was paid), else
    ``None``."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        value = _amount_value(data.get("value"))
        currency = _currency(data.get("currency"))
        if value is not None and currency is not None:
            return Amount(value=value, currency=currency)
    if mandatory:
        raise _bad_field(field, "bad_amount")
    return None


def _time(value: object) -> datetime | None:
    """An optional time (ISO-8601 or Unix seconds in ASCII digits); ``None`` if unreadable."""
    if isinstance(value, str) and not value.isascii():
        return None  # float() and int() read '١٢٣' as 123: never a guessed instant
    try:
        return parse_time(value)
    except (ValueError, TypeError, ArithmeticError, OSError):
        return None


_BASE_FIELDS = frozenset(
    {
        "latestTransactionStatus",
        "originalReferenceNo",
        "originalPartnerReferenceNo",
        "amount",
        "finishedTime",
        "additionalInfo",
    }
)


@attrs.frozen(kw_only=True, slots=True)
class PaymentNotification:
    """A verified non-SNAP "Payment Notify" (spec §12.2). Subclasses add per-product fields.

    ``status`` is ``latestTransactionStatus``; ``original_reference_no`` is Ayolinx's reference
    and ``original_partner_reference_no`` yours. ``extra`` holds top-level fields this class
    does not model; ``body`` is the decoded JSON and ``raw`` the exact verified bytes.
    """

    kind: ClassVar[NotificationKind] = NotificationKind.UNKNOWN
    _modelled: ClassVar[frozenset[str]] = _BASE_FIELDS

    status: TransactionStatus
    original_reference_no: str | None
    original_partner_reference_no: str | None
    amount: Amount | None
    channel: Channel | None
    finished_time: datetime | None
    additional_info: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    body: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    raw: bytes = attrs.field(default=b"", repr=False)
    path: str = ""
    timestamp: str = ""
    #: True when the handler confirmed this status with an authenticated status query
    #: (``confirm_with=``); False for a verified but unconfirmed callback.
    confirmed: bool = False

    @property
    def reference(self) -> str:
        """Ayolinx's reference if sent, else yours: the transaction this callback is about."""
        return self.original_reference_no or self.original_partner_reference_no or ""

    @property
    def dedupe_key(self) -> str:
        """``originalReferenceNo:latestTransactionStatus`` (spec §8): one key per status change."""
        if self.original_reference_no:
            return f"{self.original_reference_no}:{self.status.value}"
        # Without Ayolinx's reference, your reference may repeat across payments (a reusable
        # open-amount VA): the bank's reference, when sent, tells them apart.
        key = f"partner:{self.original_partner_reference_no}:{self.status.value}"
        return key + _payment_tag(self)

    @classmethod
    def _extra_fields(cls, body: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        """Per-product fields; subclasses override."""
        return {}

    @classmethod
    def from_body(
        cls, body: Mapping[str, Any], *, raw: bytes = b"", path: str = "", timestamp: str = ""
    ) -> PaymentNotification:
        """Build the event from a decoded notify body: 400xx02 if a dedupe field is missing,
        400xx01 if the status, a reference or the amount is unusable."""
        status = _mandatory(body, "latestTransactionStatus")
        _mandatory(body, "originalReferenceNo", "originalPartnerReferenceNo")
        info = _mapping(body.get("additionalInfo"))
        return cls(
            status=TransactionStatus(status.strip()),
            original_reference_no=_identifier(body, "originalReferenceNo"),
            original_partner_reference_no=_identifier(body, "originalPartnerReferenceNo"),
            amount=_amount(body.get("amount"), field="amount.value", mandatory=True),
            channel=_channel(info.get("channel")),
            finished_time=_time(body.get("finishedTime")),
            additional_info=info,
            extra={k: v for k, v in body.items() if k not in cls._modelled},
            body=dict(body),
            raw=raw,
            path=path,
            timestamp=timestamp,
            **cls._extra_fields(body, info),
        )


@attrs.frozen(kw_only=True, slots=True)
class QrisNotification(PaymentNotification):
    """QRIS notify (spec §12.3): payer, issuer and fee details from ``additionalInfo``."""

    kind: ClassVar[NotificationKind] = NotificationKind.QRIS
    _modelled: ClassVar[frozenset[str]] = _BASE_FIELDS | {"callbackType", "customerNumber"}

    callback_type: str | None = None
    #: The payer's identifiers are personal data: kept off ``repr`` (and so off logs).
    customer_number: str | None = attrs.field(default=None, repr=False)
    rrn: str | None = None
    fee: Amount | None = None
    bank_code: str | None = None
    bank_name: str | None = None
    payer_name: str | None = attrs.field(default=None, repr=False)
    trx_type: str | None = None
    payment_ntb: str | None = None
    settle_date: str | None = None

    @classmethod
    def _extra_fields(cls, body: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "callback_type": _str(body.get("callbackType")),
            "customer_number": _str(body.get("customerNumber")),
            # The docs write rRN, the real sandbox payload RRN (spec §12.3).
            "rrn": _str(info.get("RRN")) or _str(info.get("rRN")) or _str(info.get("rrn")),
            "fee": _amount(info.get("feeMoney"), field="feeMoney", mandatory=False),
            "bank_code": _str(info.get("bankCode")),
            "bank_name": _str(info.get("bankName")),
            "payer_name": _str(info.get("userName")),
            "trx_type": _str(info.get("trxType")),
            "payment_ntb": _str(info.get("paymentNtb")),
            "settle_date": _str(info.get("settleDate")),
        }


@attrs.frozen(kw_only=True, slots=True)
class EwalletNotification(PaymentNotification):
    """E-wallet (DANA) notify; may carry ``transactionStatusDesc`` (notes §8.3)."""

    kind: ClassVar[NotificationKind] = NotificationKind.EWALLET
    _modelled: ClassVar[frozenset[str]] = _BASE_FIELDS | {"transactionStatusDesc"}

    transaction_status_desc: str | None = None

    @classmethod
    def _extra_fields(cls, body: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        return {"transaction_status_desc": _str(body.get("transactionStatusDesc"))}


@attrs.frozen(kw_only=True, slots=True)
class VirtualAccountNotification(PaymentNotification):
    """Non-SNAP VA notify (spec §12.2): ``originalPartnerReferenceNo`` is your ``trxId``."""

    kind: ClassVar[NotificationKind] = NotificationKind.VIRTUAL_ACCOUNT
    _modelled: ClassVar[frozenset[str]] = _BASE_FIELDS | {"virtualAccountNo"}

    virtual_account_no: str | None = None
    payment_ntb: str | None = None

    @classmethod
    def _extra_fields(cls, body: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        return {
            # Top level or additionalInfo: the notify page's field list is cut off (spec §12.2).
            "virtual_account_no": _str(body.get("virtualAccountNo"))
            or _str(info.get("virtualAccountNo")),
            "payment_ntb": _str(info.get("paymentNtb")),
        }


@attrs.frozen(kw_only=True, slots=True)
class RetailNotification(PaymentNotification):
    """Convenience-store notify (spec §12.2)."""

    kind: ClassVar[NotificationKind] = NotificationKind.RETAIL


@attrs.frozen(kw_only=True, slots=True)
class PaymentLinkNotification(PaymentNotification):
    """A payment-link callback (spec §12.5): the paying channel's notify plus ``plh``.

    ``plh`` is the link ID returned at creation; ``via`` is the product the payer used.
    """

    kind: ClassVar[NotificationKind] = NotificationKind.PAYMENT_LINK
    _modelled: ClassVar[frozenset[str]] = _BASE_FIELDS | {
        "callbackType",
        "customerNumber",
        "transactionStatusDesc",
    }

    plh: str = ""
    via: NotificationKind = NotificationKind.UNKNOWN

    @classmethod
    def _extra_fields(cls, body: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "plh": _str(info.get("plh")) or "",
            "via": _kind_from_channel(_str(info.get("channel")), _str(body.get("callbackType"))),
        }


_BY_KIND: dict[NotificationKind, type[PaymentNotification]] = {
    NotificationKind.QRIS: QrisNotification,
    NotificationKind.EWALLET: EwalletNotification,
    NotificationKind.VIRTUAL_ACCOUNT: VirtualAccountNotification,
    NotificationKind.RETAIL: RetailNotification,
    NotificationKind.PAYMENT_LINK: PaymentLinkNotification,
    NotificationKind.UNKNOWN: PaymentNotification,
}


def _kind_from_channel(channel: str | None, callback_type: str | None) -> NotificationKind:
    ch = (channel or "").strip().upper()
    ct = (callback_type or "").strip().upper()
    if ch.startswith("VIRTUAL_ACCOUNT") or ct in {"VA", "VIRTUAL_ACCOUNT"}:
        return NotificationKind.VIRTUAL_ACCOUNT
    if ch.startswith("RETAIL_") or ct == "RETAIL":
        return NotificationKind.RETAIL
    if ch.startswith("EMONEY_") or ct in {"EWALLET", "EMONEY", "DANA"}:
        return NotificationKind.EWALLET
    if "QRIS" in ch or ct == "QRIS":
        return NotificationKind.QRIS
    return NotificationKind.UNKNOWN


def classify_notification(
    body: Mapping[str, Any], hint: NotificationKind | None = None
) -> NotificationKind:
    """Pick the product: ``additionalInfo.plh`` means a payment link; else the route's ``hint``;
    else the channel code / ``callbackType``; else UNKNOWN (still delivered)."""
    info = _mapping(body.get("additionalInfo"))
    if _str(info.get("plh")):
        return NotificationKind.PAYMENT_LINK
    if hint is not None and hint is not NotificationKind.UNKNOWN:
        return hint
    return _kind_from_channel(_str(info.get("channel")), _str(body.get("callbackType")))


def parse_notification(
    raw: bytes,
    *,
    path: str = "",
    timestamp: str = "",
    kind: NotificationKind | None = None,
) -> PaymentNotification:
    """Decode and type a verified notify body; raises :class:`CallbackRejected` (400)."""
    body = decode_json_object(raw)
    cls = _BY_KIND[classify_notification(body, kind)]
    return cls.from_body(body, raw=raw, path=path, timestamp=timestamp)


#: Fields echoed back in ``virtualAccountData`` (spec §12.4b), in this order, when present.
_VA_ECHO = (
    "partnerServiceId",
    "customerNo",
    "virtualAccountNo",
    "virtualAccountName",
    "trxId",
    "paymentRequestId",
    "paidAmount",
    "virtualAccountTrxType",
    "additionalInfo",
)


@attrs.frozen(kw_only=True, slots=True)
class VaPaymentRequest:
    """A verified SNAP ``POST /v1.0/transfer-va/payment`` from Ayolinx (spec §12.4b).

    It reports a completed VA payment, so ``status`` is always SUCCESS. Identifiers keep the
    space padding the bank sent (``partnerServiceId`` is often left-padded to 8 characters).
    """

    virtual_account_no: str
    partner_service_id: str | None
    customer_no: str | None
    virtual_account_name: str | None = attrs.field(repr=False)
    trx_id: str | None
    payment_request_id: str | None
    paid_amount: Amount | None
    trx_type: str | None
    channel: Channel | None
    payment_time: datetime | None
    payment_ntb: str | None
    external_id: str | None = None
    partner_id: str | None = None
    additional_info: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    body: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    raw: bytes = attrs.field(default=b"", repr=False)
    path: str = ""
    timestamp: str = ""
    #: True when the handler confirmed this status with an authenticated status query
    #: (``confirm_with=``); False for a verified but unconfirmed callback.
    confirmed: bool = False

    @property
    def status(self) -> TransactionStatus:
        return TransactionStatus.SUCCESS

    @property
    def dedupe_key(self) -> str:
        """One key per bank payment: VA number plus ``paymentRequestId`` (else ``trxId``)."""
        ident = self.payment_request_id or f"trx:{self.trx_id}{_payment_tag(self)}"
        return f"va-payment:{self.virtual_account_no.strip()}:{ident}"

    def virtual_account_data(self) -> dict[str, Any]:
        """The ``virtualAccountData`` echo for the ``2002500`` answer, values as received."""
        return {name: self.body[name] for name in _VA_ECHO if name in self.body}

    @classmethod
    def from_body(
        cls,
        body: Mapping[str, Any],
        *,
        raw: bytes = b"",
        path: str = "",
        timestamp: str = "",
        external_id: str | None = None,
        partner_id: str | None = None,
    ) -> VaPaymentRequest:
        """Build the event from a decoded body: 400xx02 if the VA number or both payment
        identifiers (``paymentRequestId``, ``trxId``) are missing, 400xx01 if one of them or
        ``paidAmount`` is unusable."""
        va_no = _mandatory(body, "virtualAccountNo")
        _mandatory(body, "paymentRequestId", "trxId")
        info = _mapping(body.get("additionalInfo"))
        return cls(
            virtual_account_no=va_no,
            partner_service_id=_str(body.get("partnerServiceId")),
            customer_no=_str(body.get("customerNo")),
            virtual_account_name=_str(body.get("virtualAccountName")),
            trx_id=_identifier(body, "trxId"),
            payment_request_id=_identifier(body, "paymentRequestId"),
            paid_amount=_amount(body.get("paidAmount"), field="paidAmount.value", mandatory=True),
            trx_type=_str(body.get("virtualAccountTrxType")),
            channel=_channel(info.get("channel")),
            payment_time=_time(info.get("paymentTimeIso8601")),
            payment_ntb=_str(info.get("paymentNtb")),
            external_id=external_id,
            partner_id=partner_id,
            additional_info=info,
            extra={k: v for k, v in body.items() if k not in _VA_ECHO},
            body=dict(body),
            raw=raw,
            path=path,
            timestamp=timestamp,
        )


def parse_va_payment(
    raw: bytes,
    *,
    path: str = "",
    timestamp: str = "",
    external_id: str | None = None,
    partner_id: str | None = None,
) -> VaPaymentRequest:
    """Decode and type a verified SNAP VA payment body; raises :class:`CallbackRejected`."""
    body = decode_json_object(raw)
    return VaPaymentRequest.from_body(
        body,
        raw=raw,
        path=path,
        timestamp=timestamp,
        external_id=external_id,
        partner_id=partner_id,
    )


CallbackEvent = PaymentNotification | VaPaymentRequest


def _payment_tag(event: PaymentNotification | VaPaymentRequest) -> str:
    """``:ntb:<paymentNtb>`` (the bank's reference) when sent, else nothing: tells payments apart
    when the payment id is missing and the merchant reference repeats."""
    info = event.body.get("additionalInfo") if isinstance(event.body, Mapping) else None
    ntb = info.get("paymentNtb") if isinstance(info, Mapping) else None
    return f":ntb:{ntb}" if isinstance(ntb, str) and ntb else ""

"""Typed callback events: one class per product's notify, plus the SNAP VA payment request.

Parsing is tolerant (spec §0): unknown statuses and channels pass through as open-enum values,
unknown fields are kept in ``extra`` / ``additional_info``, the decoded ``body`` and the exact
``raw`` bytes stay on every event. Only what deduplication needs is mandatory.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from ..models.common import Amount, Channel, TransactionStatus, parse_time
from .verify import CallbackRejected

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


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object from raw bytes; floats become ``Decimal``. 400xx01 otherwise."""
    try:
        value = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CallbackRejected(
            400, "01", "Invalid Field Format body is not JSON", reason="bad_body"
        ) from None
    if not isinstance(value, dict):
        raise CallbackRejected(
            400, "01", "Invalid Field Format body is not a JSON object", reason="bad_body"
        )
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


def _mandatory(body: Mapping[str, Any], *names: str) -> str:
    """The first non-empty of ``names``; a 400xx02 naming the first one if none is present."""
    for name in names:
        text = _str(body.get(name))
        if text is not None and text.strip():
            return text
    raise CallbackRejected(400, "02", f"Invalid Mandatory Field {names[0]}", reason="missing_field")


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
        """Build the event from a decoded notify body; 400xx02 if a dedupe field is missing."""
        status = _mandatory(body, "latestTransactionStatus")
        _mandatory(body, "originalReferenceNo", "originalPartnerReferenceNo")
        info = _mapping(body.get("additionalInfo"))
        return cls(
            status=TransactionStatus(status.strip()),
            original_reference_no=_str(body.get("originalReferenceNo")) or None,
            original_partner_reference_no=_str(body.get("originalPartnerReferenceNo")) or None,
            amount=Amount.from_wire(body.get("amount")),
            channel=_channel(info.get("channel")),
            finished_time=parse_time(body.get("finishedTime")),
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
            "fee": Amount.from_wire(info.get("feeMoney")),
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
        """Build the event from a decoded body; 400xx02 if the VA number or both payment
        identifiers (``paymentRequestId``, ``trxId``) are missing."""
        va_no = _mandatory(body, "virtualAccountNo")
        _mandatory(body, "paymentRequestId", "trxId")
        info = _mapping(body.get("additionalInfo"))
        return cls(
            virtual_account_no=va_no,
            partner_service_id=_str(body.get("partnerServiceId")),
            customer_no=_str(body.get("customerNo")),
            virtual_account_name=_str(body.get("virtualAccountName")),
            trx_id=_str(body.get("trxId")) or None,
            payment_request_id=_str(body.get("paymentRequestId")) or None,
            paid_amount=Amount.from_wire(body.get("paidAmount")),
            trx_type=_str(body.get("virtualAccountTrxType")),
            channel=_channel(info.get("channel")),
            payment_time=parse_time(info.get("paymentTimeIso8601")),
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

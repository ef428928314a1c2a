"""Typed callback events: one class per product's notify, plus the SNAP VA payment request.

Parsing is tolerant (docs/protocol.md §0): unknown statuses and channels pass through as
open-enum values, unknown fields are kept in ``extra`` / ``additional_info``, the decoded
``body`` and the exact ``raw`` bytes stay on every event. Fields are declared once
(``metadata=wire(...)``) and read by the response models' parsers; only what deduplication and
the paid amount need is mandatory: an unusable mandatory field is a 400, an unreadable optional
one is ``None`` (its raw text stays in ``body``). Parsing never raises anything but
:class:`CallbackRejected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

import attrs

from ..models._enums import Channel, TransactionStatus
from ..models._fields import known_names, wire
from ..models._money import Amount
from ..models._parsers import parse_channel, parse_str
from ..models._times import parse_time
from ._event_fields import (
    Required,
    as_dict,
    event_builder,
    event_status,
    identifier,
    optional_amount,
    paid_amount,
    read_event_fields,
    text_or_empty,
)
from ._event_json import decode_json_object
from ._kinds import NotificationKind, classify_notification, kind_from_channel

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


#: Mandatory notify fields, as ``(attribute, wire name)`` groups (see ``read_event_fields``).
_NOTIFY_REQUIRED: Required = (
    (("status", "latestTransactionStatus"),),
    (
        ("original_reference_no", "originalReferenceNo"),
        ("original_partner_reference_no", "originalPartnerReferenceNo"),
    ),
)
_VA_PAYMENT_REQUIRED: Required = (
    (("virtual_account_no", "virtualAccountNo"),),
    (("payment_request_id", "paymentRequestId"), ("trx_id", "trxId")),
)


@attrs.frozen(kw_only=True, slots=True)
class _Envelope:
    """What every verified callback carries besides its product's fields: the paying channel,
    what is not modelled, the decoded body, the exact bytes, and where and when it came."""

    #: Top-level fields this event reads without a field here (kept out of ``extra``).
    _also_read: ClassVar[frozenset[str]] = frozenset()
    #: Every top-level field this event reads (the rest is ``extra``), worked out per class.
    _known_keys: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __attrs_init_subclass__(cls) -> None:
        """Work out ``_known_keys`` once attrs has built the subclass."""
        cls._known_keys = known_names(cls) | cls._also_read

    channel: Channel | None = attrs.field(
        metadata=wire("additionalInfo.channel", parse=parse_channel)
    )
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, repr=False, metadata=wire("additionalInfo", parse=as_dict)
    )
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    body: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    raw: bytes = attrs.field(default=b"", repr=False)
    path: str = ""
    timestamp: str = ""
    #: True when the handler confirmed this status with an authenticated status query
    #: (``confirm_with=``); False for a verified but unconfirmed callback.
    confirmed: bool = False

    @classmethod
    def _parse(
        cls,
        body: Mapping[str, Any],
        required: Required,
        raw: bytes,
        path: str,
        timestamp: str,
        known: Mapping[str, Any] | None = None,
        *,
        owned: bool = False,
    ) -> Self:
        """The event from a decoded body: its declared wire fields (``required`` as for
        :func:`read_event_fields`), the ``known`` values and the envelope; top-level fields
        no field (nor ``_also_read``) covers go to ``extra``. ``owned``: ``body`` was decoded
        for this event alone, so the event keeps it instead of a copy."""
        if type(body) is dict and not known:
            # The usual event: read and built by one compiled function (issue 15).
            build = event_builder(cls, required, cls._known_keys)
            return build(body, raw, path, timestamp, body if owned else dict(body))  # type: ignore[no-any-return]
        # One keyword dict, filled in place: the fields read are a fresh dict of our own, and
        # merging several ** arguments would copy it again (issue 15).
        fields = read_event_fields(cls, body, required)
        if known:
            fields.update(known)
        known_keys = cls._known_keys
        fields["extra"] = {key: value for key, value in body.items() if key not in known_keys}
        fields["body"] = body if owned else dict(body)
        fields["raw"] = raw
        fields["path"] = path
        fields["timestamp"] = timestamp
        return cls(**fields)


@attrs.frozen(kw_only=True, slots=True)
class PaymentNotification(_Envelope):
    """A verified non-SNAP "Payment Notify" (docs/protocol.md §18.2). Subclasses add
    per-product fields.

    ``status`` is ``latestTransactionStatus``; ``original_reference_no`` is Ayolinx's reference
    and ``original_partner_reference_no`` yours. ``extra`` holds top-level fields this class
    does not model; ``body`` is the decoded JSON and ``raw`` the exact verified bytes.
    """

    kind: ClassVar[NotificationKind] = NotificationKind.UNKNOWN

    status: TransactionStatus = attrs.field(
        metadata=wire("latestTransactionStatus", parse=event_status)
    )
    original_reference_no: str | None = attrs.field(
        metadata=wire("originalReferenceNo", parse=identifier)
    )
    original_partner_reference_no: str | None = attrs.field(
        metadata=wire("originalPartnerReferenceNo", parse=identifier)
    )
    amount: Amount | None = attrs.field(metadata=wire("amount", parse=paid_amount))
    finished_time: datetime | None = attrs.field(metadata=wire("finishedTime", parse=parse_time))

    @property
    def reference(self) -> str:
        """Ayolinx's reference if sent, else yours: the transaction this callback is about."""
        return self.original_reference_no or self.original_partner_reference_no or ""

    @property
    def dedupe_key(self) -> str:
        """``originalReferenceNo:latestTransactionStatus`` (docs/protocol.md §14): one key per
        status change."""
        if self.original_reference_no:
            # The status formats as its value (a StrEnum), without the enum's value property.
            return f"{self.original_reference_no}:{self.status}"
        # Without Ayolinx's reference, your reference may repeat across payments (a reusable
        # open-amount VA): the bank's reference, when sent, tells them apart.
        key = f"partner:{self.original_partner_reference_no}:{self.status.value}"
        return key + _payment_tag(self)

    #: True where :meth:`_derived` computes fields (payment links); other classes skip it.
    _derives: ClassVar[bool] = False

    @classmethod
    def _derived(cls, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Fields computed from several wire values; subclasses override (and set
        ``_derives``)."""
        return None

    @classmethod
    def from_body(
        cls, body: Mapping[str, Any], *, raw: bytes = b"", path: str = "", timestamp: str = ""
    ) -> PaymentNotification:
        """Build the event from a decoded notify body: 400xx02 if a dedupe field is missing,
        400xx01 if the status, a reference or the amount is unusable."""
        derived = cls._derived(body) if cls._derives else None
        return cls._parse(body, _NOTIFY_REQUIRED, raw, path, timestamp, derived)


@attrs.frozen(kw_only=True, slots=True)
class QrisNotification(PaymentNotification):
    """QRIS notify (docs/protocol.md §18.3): payer, issuer and fee details from
    ``additionalInfo``."""

    kind: ClassVar[NotificationKind] = NotificationKind.QRIS

    callback_type: str | None = attrs.field(
        default=None, metadata=wire("callbackType", parse=parse_str)
    )
    #: The payer's identifiers are personal data: kept off ``repr`` (and so off logs).
    customer_number: str | None = attrs.field(
        default=None, repr=False, metadata=wire("customerNumber", parse=parse_str)
    )
    # The docs write rRN, the real sandbox payload RRN (docs/protocol.md §18.3).
    rrn: str | None = attrs.field(
        default=None,
        metadata=wire(
            "additionalInfo.RRN", "additionalInfo.rRN", "additionalInfo.rrn", parse=parse_str
        ),
    )
    fee: Amount | None = attrs.field(
        default=None, metadata=wire("additionalInfo.feeMoney", parse=optional_amount)
    )
    bank_code: str | None = attrs.field(
        default=None, metadata=wire("additionalInfo.bankCode", parse=parse_str)
    )
    bank_name: str | None = attrs.field(
        default=None, metadata=wire("additionalInfo.bankName", parse=parse_str)
    )
    payer_name: str | None = attrs.field(
        default=None, repr=False, metadata=wire("additionalInfo.userName", parse=parse_str)
    )
    trx_type: str | None = attrs.field(
        default=None, metadata=wire("additionalInfo.trxType", parse=parse_str)
    )
    payment_ntb: str | None = attrs.field(
        default=None, metadata=wire("additionalInfo.paymentNtb", parse=parse_str)
    )
    settle_date: str | None = attrs.field(
        default=None, metadata=wire("additionalInfo.settleDate", parse=parse_str)
    )


@attrs.frozen(kw_only=True, slots=True)
class EwalletNotification(PaymentNotification):
    """E-wallet (DANA) notify; may carry ``transactionStatusDesc`` (docs/protocol.md §7)."""

    kind: ClassVar[NotificationKind] = NotificationKind.EWALLET

    transaction_status_desc: str | None = attrs.field(
        default=None, metadata=wire("transactionStatusDesc", parse=parse_str)
    )


@attrs.frozen(kw_only=True, slots=True)
class VirtualAccountNotification(PaymentNotification):
    """Non-SNAP VA notify (docs/protocol.md §18.2): ``originalPartnerReferenceNo`` is
    your ``trxId``."""

    kind: ClassVar[NotificationKind] = NotificationKind.VIRTUAL_ACCOUNT

    # Top level or additionalInfo: the notify page's field list is cut off (docs/protocol.md §18.2).
    virtual_account_no: str | None = attrs.field(
        default=None,
        metadata=wire("virtualAccountNo", "additionalInfo.virtualAccountNo", parse=parse_str),
    )
    payment_ntb: str | None = attrs.field(
        default=None, metadata=wire("additionalInfo.paymentNtb", parse=parse_str)
    )


@attrs.frozen(kw_only=True, slots=True)
class RetailNotification(PaymentNotification):
    """Convenience-store notify (docs/protocol.md §18.2)."""

    kind: ClassVar[NotificationKind] = NotificationKind.RETAIL


@attrs.frozen(kw_only=True, slots=True)
class PaymentLinkNotification(PaymentNotification):
    """A payment-link callback (docs/protocol.md §18.5): the paying channel's notify plus ``plh``.

    ``plh`` is the link ID returned at creation; ``via`` is the product the payer used.
    """

    kind: ClassVar[NotificationKind] = NotificationKind.PAYMENT_LINK
    _also_read: ClassVar[frozenset[str]] = frozenset(
        {"callbackType", "customerNumber", "transactionStatusDesc"}
    )
    _derives: ClassVar[bool] = True

    plh: str = attrs.field(default="", metadata=wire("additionalInfo.plh", parse=text_or_empty))
    via: NotificationKind = NotificationKind.UNKNOWN

    @classmethod
    def _derived(cls, body: Mapping[str, Any]) -> dict[str, Any]:
        info = as_dict(body.get("additionalInfo"))
        return {
            "via": kind_from_channel(
                parse_str(info.get("channel")), parse_str(body.get("callbackType"))
            )
        }


_BY_KIND: dict[NotificationKind, type[PaymentNotification]] = {
    NotificationKind.QRIS: QrisNotification,
    NotificationKind.EWALLET: EwalletNotification,
    NotificationKind.VIRTUAL_ACCOUNT: VirtualAccountNotification,
    NotificationKind.RETAIL: RetailNotification,
    NotificationKind.PAYMENT_LINK: PaymentLinkNotification,
    NotificationKind.UNKNOWN: PaymentNotification,
}


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
    # from_body's reading, keeping the freshly decoded body rather than a copy of it.
    derived = cls._derived(body) if cls._derives else None
    return cls._parse(body, _NOTIFY_REQUIRED, raw, path, timestamp, derived, owned=True)


#: Fields echoed back in ``virtualAccountData`` (docs/protocol.md §18.4.2), in this
#: order, when present.
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
class VaPaymentRequest(_Envelope):
    """A verified SNAP ``POST /v1.0/transfer-va/payment`` from Ayolinx (docs/protocol.md §18.4.2).

    It reports a completed VA payment, so ``status`` is always SUCCESS. Identifiers keep the
    space padding the bank sent (``partnerServiceId`` is often left-padded to 8 characters).
    """

    virtual_account_no: str = attrs.field(metadata=wire("virtualAccountNo", parse=identifier))
    partner_service_id: str | None = attrs.field(metadata=wire("partnerServiceId", parse=parse_str))
    customer_no: str | None = attrs.field(metadata=wire("customerNo", parse=parse_str))
    virtual_account_name: str | None = attrs.field(
        repr=False, metadata=wire("virtualAccountName", parse=parse_str)
    )
    trx_id: str | None = attrs.field(metadata=wire("trxId", parse=identifier))
    payment_request_id: str | None = attrs.field(
        metadata=wire("paymentRequestId", parse=identifier)
    )
    paid_amount: Amount | None = attrs.field(metadata=wire("paidAmount", parse=paid_amount))
    trx_type: str | None = attrs.field(metadata=wire("virtualAccountTrxType", parse=parse_str))
    payment_time: datetime | None = attrs.field(
        metadata=wire("additionalInfo.paymentTimeIso8601", parse=parse_time)
    )
    payment_ntb: str | None = attrs.field(
        metadata=wire("additionalInfo.paymentNtb", parse=parse_str)
    )
    external_id: str | None = None
    partner_id: str | None = None

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
        known = {"external_id": external_id, "partner_id": partner_id}
        return cls._parse(body, _VA_PAYMENT_REQUIRED, raw, path, timestamp, known)


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
    known = {"external_id": external_id, "partner_id": partner_id}
    return VaPaymentRequest._parse(
        body, _VA_PAYMENT_REQUIRED, raw, path, timestamp, known, owned=True
    )


CallbackEvent = PaymentNotification | VaPaymentRequest


def _payment_tag(event: PaymentNotification | VaPaymentRequest) -> str:
    """``:ntb:<paymentNtb>`` (the bank's reference) when sent, else nothing: tells payments apart
    when the payment id is missing and the merchant reference repeats."""
    info = event.body.get("additionalInfo") if isinstance(event.body, Mapping) else None
    ntb = info.get("paymentNtb") if isinstance(info, Mapping) else None
    return f":ntb:{ntb}" if isinstance(ntb, str) and ntb else ""

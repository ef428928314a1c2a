"""The tracker's value types and the pure rules: which status is which outcome, when to poll."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import attrs

from .._endpoints import PaymentProduct
from .._errors import ValidationError
from ..models._money import Amount

__all__ = [
    "DEFAULT_VALIDITY",
    "Delivery",
    "OutcomeKind",
    "OutcomeSource",
    "PaymentOutcome",
    "PaymentState",
    "PollSchedule",
    "Report",
    "TrackedPayment",
    "TrackerStats",
    "as_decimal",
    "decide",
    "judge",
    "outcome_for",
    "poll_deadline",
]

#: Validity assumed when a create gives no expiry: Ayolinx's documented defaults
#: (docs/protocol.md §21: QR 30 min, e-wallet 1 h, VA and payment link 24 h; retail as VA).
DEFAULT_VALIDITY: dict[PaymentProduct, float] = {
    PaymentProduct.QRIS: 1800.0,
    PaymentProduct.EWALLET: 3600.0,
    PaymentProduct.VIRTUAL_ACCOUNT: 86400.0,
    PaymentProduct.RETAIL: 86400.0,
    PaymentProduct.PAYMENT_LINK: 86400.0,
}


class PaymentState(enum.StrEnum):
    """Where a tracked payment is: still waiting, or decided (an outcome exists)."""

    PENDING = "pending"
    FINAL = "final"


class OutcomeKind(enum.StrEnum):
    """What finally happened to a payment; exactly one per payment."""

    PAID = "paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    #: Nothing authoritative was learned before expiry plus grace: check the back office.
    UNRESOLVED = "unresolved"


class OutcomeSource(enum.StrEnum):
    """Which feed decided the outcome."""

    CALLBACK = "callback"
    POLL = "poll"
    DEADLINE = "deadline"


def as_decimal(value: Decimal | str | int | None, field: str = "amount") -> Decimal | None:
    """An amount as ``Decimal`` (never float); ``ValidationError`` naming ``field`` otherwise."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(field, f"must be a Decimal, str or int, not {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValidationError(field, f"is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValidationError(field, "must be finite")
    return result


@attrs.frozen(kw_only=True, slots=True)
class PollSchedule:
    """Seconds between status queries: one delay per poll, the last one repeating."""

    delays: tuple[float, ...] = (15.0, 60.0, 300.0, 900.0)

    def __attrs_post_init__(self) -> None:
        if not self.delays or any(d <= 0 for d in self.delays):
            raise ValidationError("delays", "must be a non-empty sequence of positive seconds")

    @classmethod
    def of(cls, delays: Sequence[float]) -> PollSchedule:
        return cls(delays=tuple(float(d) for d in delays))

    def delay(self, polls: int) -> float:
        """The wait after the ``polls``-th query (0: the wait before the first one)."""
        return self.delays[min(polls, len(self.delays) - 1)]


@attrs.frozen(kw_only=True, slots=True)
class TrackedPayment:
    """One payment the tracker watches, as stored.

    ``alias`` is Ayolinx's id for it when callbacks name it differently (a payment link's id).
    ``poll_until`` is expiry plus grace: after it a still-open payment ends ``unresolved``.
    ``uncertain`` marks a create that raised ``OutcomeUnknownError``.
    """

    reference: str
    product: PaymentProduct
    channel: str | None = None
    amount: Decimal | None = None
    currency: str = "IDR"
    alias: str | None = None
    created_at: float
    expires_at: float
    poll_until: float
    uncertain: bool = False
    state: PaymentState = PaymentState.PENDING
    polls: int = 0
    next_poll_at: float | None = None
    last_status: str | None = None

    @property
    def queryable(self) -> bool:
        """True when Ayolinx has a status query for the product (payment links have none)."""
        return self.product is not PaymentProduct.PAYMENT_LINK


@attrs.frozen(kw_only=True, slots=True)
class PaymentOutcome:
    """The one final event of a payment, delivered to ``on_outcome`` listeners.

    ``amount`` is what was created, ``paid_amount`` what Ayolinx reported; ``status`` is the
    ``latestTransactionStatus`` that decided it (``None`` for ``unresolved``).
    """

    reference: str
    product: PaymentProduct
    kind: OutcomeKind
    source: OutcomeSource
    decided_at: float
    status: str | None = None
    channel: str | None = None
    amount: Decimal | None = None
    paid_amount: Decimal | None = None
    detail: str = ""

    @property
    def is_paid(self) -> bool:
        """True only for a payment of exactly the amount created (never for a mismatch)."""
        return self.kind is OutcomeKind.PAID


@attrs.frozen(kw_only=True, slots=True)
class Delivery:
    """An outcome claimed from the outbox: the listeners already done and the attempt number."""

    outcome: PaymentOutcome
    attempt: int
    done: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True, slots=True)
class TrackerStats:
    """``ayolinx tracker status``: counts by state and outcome, the oldest pending, next poll."""

    pending: int
    final: int
    undelivered: int
    by_outcome: dict[str, int] = attrs.field(factory=dict)
    oldest_pending: str | None = None
    oldest_pending_at: float | None = None
    next_poll_at: float | None = None


def poll_deadline(expires_at: float, grace: float) -> float:
    """When a payment still open stops being polled and ends ``unresolved``."""
    return expires_at + grace


def judge(
    payment: TrackedPayment,
    status: str | None,
    *,
    paid_amount: Decimal | None,
    currency: str | None = None,
    description: str | None = None,
    now: float | None = None,
) -> tuple[OutcomeKind, str] | None:
    """The outcome a reported status means for ``payment`` (``None``: not final yet).

    A success whose amount differs from the one created is ``AMOUNT_MISMATCH``, never paid;
    an amount of zero is an open-amount VA (any amount). Ayolinx reports expiry as ``05``
    "Expired" (docs/protocol.md §21); a ``05`` that says nothing is an expiry once the payment's
    validity (checked at ``now``) has passed, otherwise a cancellation.
    """
    if status == "00":
        expected = payment.amount
        if expected is not None and expected != 0 and paid_amount is not None:
            if paid_amount != expected:
                return OutcomeKind.AMOUNT_MISMATCH, f"created {expected}, paid {paid_amount}"
            if currency and currency != payment.currency:
                return (
                    OutcomeKind.AMOUNT_MISMATCH,
                    f"created in {payment.currency}, paid in {currency}",
                )
        return OutcomeKind.PAID, ""
    if status == "04":
        return OutcomeKind.REFUNDED, description or ""
    if status == "05":
        if description is not None and "expir" in description.lower():
            return OutcomeKind.EXPIRED, description
        if not description and now is not None and now >= payment.expires_at:
            return OutcomeKind.EXPIRED, "canceled after its expiry"
        return OutcomeKind.CANCELED, description or ""
    if status == "06":
        return OutcomeKind.FAILED, description or ""
    return None


@attrs.frozen(kw_only=True, slots=True)
class Report:
    """What one feed (a callback or a status query) reported about a payment."""

    status: str | None
    paid_amount: Decimal | None = None
    currency: str | None = None
    description: str | None = None

    @classmethod
    def of(cls, status: str | None, amount: Amount | None, description: str | None) -> Report:
        """A report from a status, the ``amount`` object Ayolinx sent and its description."""
        paid = amount.value if amount is not None else None
        currency = amount.currency if amount is not None else None
        return cls(status=status, paid_amount=paid, currency=currency, description=description)


def outcome_for(
    payment: TrackedPayment,
    kind: OutcomeKind,
    source: OutcomeSource,
    now: float,
    *,
    status: str | None = None,
    paid_amount: Decimal | None = None,
    detail: str = "",
) -> PaymentOutcome:
    """The outcome ``payment`` ends with: its own reference, product, channel and amount, plus
    what the deciding feed learned."""
    return PaymentOutcome(
        reference=payment.reference,
        product=payment.product,
        kind=kind,
        source=source,
        decided_at=now,
        status=status,
        channel=payment.channel,
        amount=payment.amount,
        paid_amount=paid_amount,
        detail=detail,
    )


def decide(
    payment: TrackedPayment, report: Report, source: OutcomeSource, now: float
) -> PaymentOutcome | None:
    """The outcome ``report`` decides for ``payment`` (``None``: not a final status)."""
    decided = judge(
        payment,
        report.status,
        paid_amount=report.paid_amount,
        currency=report.currency,
        description=report.description,
        now=now,
    )
    if decided is None:
        return None
    kind, detail = decided
    status, paid = report.status, report.paid_amount
    return outcome_for(payment, kind, source, now, status=status, paid_amount=paid, detail=detail)

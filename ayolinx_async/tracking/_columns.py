"""The SQL stores' shared row layer: the payment columns, the values a row is written from,
and rows read back as the tracker's value types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._endpoints import PaymentProduct
from ._model import (
    OutcomeKind,
    OutcomeSource,
    PaymentOutcome,
    PaymentState,
    TrackedPayment,
    TrackerStats,
)

__all__ = [
    "PAYMENT_COLUMNS",
    "finalize_values",
    "outcome_from_columns",
    "payment_from_columns",
    "payment_values",
    "stats_from_counts",
]

#: The columns of a ``TrackedPayment``, in the order :func:`payment_values` gives them.
PAYMENT_COLUMNS = (
    "reference, product, channel, amount, currency, alias, created_at, expires_at, poll_until,"
    " uncertain, state, polls, next_poll_at, last_status"
)


def _text(amount: Decimal | None) -> str | None:
    """An amount as stored: its exact decimal text (never a float)."""
    return str(amount) if amount is not None else None


def payment_values(payment: TrackedPayment) -> tuple[Any, ...]:
    """The values of a new payment row, in :data:`PAYMENT_COLUMNS` order."""
    return (
        payment.reference,
        payment.product.value,
        payment.channel,
        _text(payment.amount),
        payment.currency,
        payment.alias,
        payment.created_at,
        payment.expires_at,
        payment.poll_until,
        payment.uncertain,
        payment.state.value,
        payment.polls,
        payment.next_poll_at,
        payment.last_status,
    )


def finalize_values(outcome: PaymentOutcome) -> tuple[Any, ...]:
    """Parameters 1 to 7 of the finalize statement: kind, source, decided_at (also the
    delivery time), status, paid amount, detail, reference."""
    return (
        outcome.kind.value,
        outcome.source.value,
        outcome.decided_at,
        outcome.status,
        _text(outcome.paid_amount),
        outcome.detail,
        outcome.reference,
    )


def outcome_from_columns(
    *,
    reference: str,
    product: str,
    kind: str,
    source: str,
    decided_at: float,
    status: str | None,
    channel: str | None,
    amount: str | None,
    paid_amount: str | None,
    detail: str | None,
) -> PaymentOutcome:
    """A stored outcome row back as a ``PaymentOutcome`` (shared by the SQL stores)."""
    return PaymentOutcome(
        reference=reference,
        product=PaymentProduct(product),
        kind=OutcomeKind(kind),
        source=OutcomeSource(source),
        decided_at=decided_at,
        status=status,
        channel=channel,
        amount=Decimal(amount) if amount is not None else None,
        paid_amount=Decimal(paid_amount) if paid_amount is not None else None,
        detail=detail or "",
    )


def payment_from_columns(
    *,
    reference: str,
    product: str,
    channel: str | None,
    amount: str | None,
    currency: str,
    alias: str | None,
    created_at: float,
    expires_at: float,
    poll_until: float,
    uncertain: bool | int,
    state: str,
    polls: int,
    next_poll_at: float | None,
    last_status: str | None,
) -> TrackedPayment:
    """A stored payment row back as a ``TrackedPayment`` (shared by the SQL stores)."""
    return TrackedPayment(
        reference=reference,
        product=PaymentProduct(product),
        channel=channel,
        amount=Decimal(amount) if amount is not None else None,
        currency=currency,
        alias=alias,
        created_at=created_at,
        expires_at=expires_at,
        poll_until=poll_until,
        uncertain=bool(uncertain),
        state=PaymentState(state),
        polls=polls,
        next_poll_at=next_poll_at,
        last_status=last_status,
    )


def stats_from_counts(
    counts: list[tuple[str, str | None, int | None, int]],
    oldest: tuple[str, float] | None,
    next_poll_at: float | None,
) -> TrackerStats:
    """Tracker statistics from per-(state, outcome) counts (shared by the SQL stores)."""
    by_outcome = {kind: n for state, kind, _, n in counts if kind is not None}
    return TrackerStats(
        pending=sum(n for state, _, _, n in counts if state == "pending"),
        final=sum(n for state, _, _, n in counts if state == "final"),
        undelivered=sum(u or 0 for _, _, u, _ in counts),
        by_outcome=by_outcome,
        oldest_pending=oldest[0] if oldest else None,
        oldest_pending_at=oldest[1] if oldest else None,
        next_poll_at=next_poll_at,
    )

"""The SQL stores' shared row layer: the payment columns, the values a row is written from,
and rows read back as the tracker's value types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

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
    "ColumnTypes",
    "finalize_values",
    "outcome_from_columns",
    "payment_from_columns",
    "payment_values",
    "payments_table",
    "stats_from_counts",
]

#: The columns of a ``TrackedPayment``, in the order :func:`payment_values` gives them.
PAYMENT_COLUMNS = (
    "reference, product, channel, amount, currency, alias, created_at, expires_at, poll_until,"
    " uncertain, state, polls, next_poll_at, last_status"
)


@attrs.frozen(kw_only=True, slots=True)
class ColumnTypes:
    """How one SQL store spells the types :func:`payments_table` needs: epoch ``seconds``, a
    ``flag`` with its ``false`` literal, and the listener ``names`` with their empty value."""

    seconds: str
    flag: str
    false: str
    names: str
    no_names: str


def payments_table(create: str, types: ColumnTypes) -> str:
    """The ``ayolinx_payments`` table of schema version 1, headed by ``create`` (``CREATE
    TABLE``...): one column list for both SQL stores. Never edit it; add a migration."""
    return f"""
    {create} ayolinx_payments (
        reference TEXT PRIMARY KEY,
        product TEXT NOT NULL,
        channel TEXT,
        amount TEXT,
        currency TEXT NOT NULL,
        alias TEXT,
        created_at {types.seconds} NOT NULL,
        expires_at {types.seconds} NOT NULL,
        poll_until {types.seconds} NOT NULL,
        uncertain {types.flag} NOT NULL DEFAULT {types.false},
        state TEXT NOT NULL DEFAULT 'pending',
        polls INTEGER NOT NULL DEFAULT 0,
        next_poll_at {types.seconds},
        last_status TEXT,
        outcome TEXT,
        source TEXT,
        decided_at {types.seconds},
        status TEXT,
        paid_amount TEXT,
        detail TEXT,
        delivered {types.flag} NOT NULL DEFAULT {types.false},
        deliver_at {types.seconds},
        attempts INTEGER NOT NULL DEFAULT 0,
        done {types.names} NOT NULL DEFAULT {types.no_names},
        last_error TEXT
    );"""


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

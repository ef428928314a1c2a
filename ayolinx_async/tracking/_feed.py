"""The callback feed: a verified ``CallbackEvent`` as the facts the tracker judges."""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..callbacks._events import CallbackEvent, PaymentLinkNotification, VaPaymentRequest
from ._model import OutcomeSource, PaymentOutcome, TrackedPayment, judge

__all__ = ["EventFacts", "event_facts", "outcome_from_event"]


@attrs.frozen(kw_only=True, slots=True)
class EventFacts:
    """The references a callback names (most specific first), its status and amount."""

    keys: tuple[str, ...]
    status: str
    paid_amount: Decimal | None
    currency: str | None
    description: str | None


def event_facts(event: CallbackEvent) -> EventFacts:
    """What a verified callback says, in the tracker's terms (docs/protocol.md §18)."""
    if isinstance(event, VaPaymentRequest):
        keys: tuple[str | None, ...] = (event.trx_id, event.virtual_account_no)
        amount = event.paid_amount
        description = None
    else:
        plh = event.plh if isinstance(event, PaymentLinkNotification) else None
        keys = (event.original_partner_reference_no, plh, event.original_reference_no)
        amount = event.amount
        description = getattr(event, "transaction_status_desc", None)
        if description is None:
            # QRIS says why in additionalInfo.errorCode (docs/protocol.md §18.3).
            text = event.body.get("transactionStatusDesc") or event.additional_info.get("errorCode")
            description = text if isinstance(text, str) and text else None
    return EventFacts(
        keys=tuple(dict.fromkeys(k for k in keys if k)),
        status=str(event.status),
        paid_amount=amount.value if amount is not None else None,
        currency=amount.currency if amount is not None else None,
        description=description,
    )


def outcome_from_event(
    payment: TrackedPayment, facts: EventFacts, now: float
) -> PaymentOutcome | None:
    """The outcome a callback decides for ``payment`` (``None``: not a final status)."""
    decided = judge(
        payment,
        facts.status,
        paid_amount=facts.paid_amount,
        currency=facts.currency,
        description=facts.description,
        now=now,
    )
    if decided is None:
        return None
    kind, detail = decided
    return PaymentOutcome(
        reference=payment.reference,
        product=payment.product,
        kind=kind,
        source=OutcomeSource.CALLBACK,
        decided_at=now,
        status=facts.status,
        channel=payment.channel,
        amount=payment.amount,
        paid_amount=facts.paid_amount,
        detail=detail,
    )

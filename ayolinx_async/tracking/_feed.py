"""The callback feed: a verified ``CallbackEvent`` as the facts the tracker judges."""

from __future__ import annotations

import attrs

from ..callbacks._events import CallbackEvent, PaymentLinkNotification, VaPaymentRequest
from ._model import OutcomeSource, PaymentOutcome, Report, TrackedPayment, decide

__all__ = ["EventFacts", "event_facts", "outcome_from_event"]


@attrs.frozen(kw_only=True, slots=True)
class EventFacts:
    """The references a callback names (most specific first) and what it reports."""

    keys: tuple[str, ...]
    report: Report


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
        report=Report.of(str(event.status), amount, description),
    )


def outcome_from_event(
    payment: TrackedPayment, facts: EventFacts, now: float
) -> PaymentOutcome | None:
    """The outcome a callback decides for ``payment`` (``None``: not a final status)."""
    return decide(payment, facts.report, OutcomeSource.CALLBACK, now)

"""The polling feed: what one status query (or its absence) says about a claimed payment.

Everything Ayolinx can answer for a query becomes either an outcome, "still open" or "ask again
later"; nothing here guesses. A payment link has no status query (docs/protocol.md §17.10), so
reaching its deadline without a callback is ``unresolved``, and so is a queryable payment that
Ayolinx still reports open (or does not know) after expiry plus grace.
"""

from __future__ import annotations

import logging
from typing import Protocol

import attrs

from .._endpoints import PaymentProduct
from .._errors import AyolinxError, NotFoundError, ValidationError
from ..models._common import TransactionStatusResponse
from ..transport._base import Timeout
from ._model import (
    OutcomeKind,
    OutcomeSource,
    PaymentOutcome,
    Report,
    TrackedPayment,
    decide,
    outcome_for,
)

__all__ = ["StatusSource", "Verdict", "poll_one", "verdict_from_status"]

logger = logging.getLogger("ayolinx_async.tracking")


class StatusSource(Protocol):
    """What the poller needs from a client: ``AyolinxClient.reconcile`` by reference."""

    async def reconcile(
        self,
        error_or_reference: str,
        *,
        product: PaymentProduct | str | None = None,
        channel: str | None = None,
        timeout: Timeout | float | None = None,
    ) -> TransactionStatusResponse: ...


@attrs.frozen(kw_only=True, slots=True)
class Verdict:
    """The result of polling one payment: an outcome, or the status to remember (if any)."""

    outcome: PaymentOutcome | None = None
    status: str | None = None


def unresolved(payment: TrackedPayment, now: float, why: str) -> PaymentOutcome:
    """The explicit "we do not know" outcome: the merchant must check the back office."""
    return outcome_for(
        payment,
        OutcomeKind.UNRESOLVED,
        OutcomeSource.DEADLINE,
        now,
        status=payment.last_status,
        detail=f"{why}; check the transaction in the Ayolinx back office",
    )


def verdict_from_status(
    payment: TrackedPayment,
    response: TransactionStatusResponse | None,
    now: float,
) -> Verdict:
    """A status answer (``None``: Ayolinx does not know the reference) as a verdict."""
    status = response.latest_transaction_status if response is not None else None
    code = str(status) if status is not None else None
    report = Report.of(
        code,
        response.amount if response is not None else None,
        response.transaction_status_desc if response is not None else None,
    )
    outcome = decide(payment, report, OutcomeSource.POLL, now)
    if outcome is not None:
        return Verdict(outcome=outcome)
    if now >= payment.poll_until:
        why = (
            f"Ayolinx still reports status {code} after expiry plus grace"
            if code is not None
            else "Ayolinx does not know this reference after expiry plus grace"
        )
        return Verdict(outcome=unresolved(payment, now, why))
    return Verdict(status=code)


async def poll_one(
    source: StatusSource | None, payment: TrackedPayment, now: float, timeout: float
) -> Verdict:
    """Query one claimed payment; a failed query is logged and asked again on its schedule."""
    if not payment.queryable:
        if now >= payment.poll_until:
            why = "payment links have no status query and no callback arrived before expiry"
            return Verdict(outcome=unresolved(payment, now, why))
        return Verdict()
    if source is None:
        raise ValidationError("client", "polling needs a client (PaymentTracker(client, ...))")
    try:
        response = await source.reconcile(
            payment.reference, product=payment.product, channel=payment.channel, timeout=timeout
        )
    except NotFoundError:
        return verdict_from_status(payment, None, now)
    except AyolinxError as exc:
        # Read-only: the payment stays pending and is asked again after its backoff.
        logger.warning(
            "tracker: status query for %s failed (%s); retrying on schedule",
            payment.reference,
            type(exc).__name__,
        )
        return Verdict()
    return verdict_from_status(payment, response, now)

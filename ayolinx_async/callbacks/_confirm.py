"""``confirm_with``: a paid or final callback reaches listeners only once the merchant's own
authenticated status query agrees with it on status, reference and amount."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import attrs

from .._endpoints import PaymentProduct
from .._errors import CallbackRejected, NotFoundError, ValidationError
from .._log import logger as _root_logger
from ..models._common import Amount, Channel, TransactionStatus
from ._events import (
    CallbackEvent,
    EwalletNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
)

if TYPE_CHECKING:
    from .._client import AyolinxClient
    from ..models._common import TransactionStatusResponse

__all__ = ["ConfirmFailed", "confirm"]

_logger = _root_logger.getChild("callbacks")


class ConfirmFailed(Exception):
    """The confirming status query failed (transport, 5xx, timeout); Ayolinx must retry."""


#: The status query that can confirm each event class (payment links have none,
#: docs/protocol.md §17.10).
_PRODUCT_OF: dict[type, PaymentProduct] = {
    QrisNotification: PaymentProduct.QRIS,
    EwalletNotification: PaymentProduct.EWALLET,
    VirtualAccountNotification: PaymentProduct.VIRTUAL_ACCOUNT,
    RetailNotification: PaymentProduct.RETAIL,
    VaPaymentRequest: PaymentProduct.VIRTUAL_ACCOUNT,
}


def _status_query(event: CallbackEvent) -> tuple[PaymentProduct, str, Channel | None] | None:
    """``(product, your reference, channel)`` to confirm ``event`` by, or ``None`` when no
    status query can answer for it (payment links, unknown products, no reference)."""
    product = _PRODUCT_OF.get(type(event))
    if product is None:
        return None
    if isinstance(event, VaPaymentRequest):
        reference = event.trx_id
    else:
        reference = event.original_partner_reference_no
    return (product, reference, event.channel) if reference else None


def _amount_of(event: CallbackEvent) -> Amount | None:
    return event.paid_amount if isinstance(event, VaPaymentRequest) else event.amount


def _disagreement(event: CallbackEvent, found: TransactionStatusResponse) -> str | None:
    """Why the queried transaction contradicts the callback, or ``None`` if it agrees.

    The status must match (a refund after a payment still confirms the payment); Ayolinx's
    reference must match when both carry one; the amount must match when the query returns a
    non-zero one (an open-amount VA bill is 0).
    """
    status = found.latest_transaction_status
    agrees = status == event.status or (
        event.status is TransactionStatus.SUCCESS and status is TransactionStatus.REFUNDED
    )
    if not agrees:
        return "status"
    reference = getattr(event, "original_reference_no", None)
    if reference and found.original_reference_no and reference != found.original_reference_no:
        return "reference"
    sent, queried = _amount_of(event), found.amount
    if queried is None or queried.value == 0:
        return None
    if sent is None or (sent.value, sent.currency) != (queried.value, queried.currency):
        return "amount"
    return None


async def confirm(
    event: CallbackEvent, client: AyolinxClient | None, timeout: float
) -> CallbackEvent:
    """``event`` marked confirmed once the merchant's own status query agrees with it;
    unchanged without a client, for a non-final status, or when no query can answer for it.
    Raises :class:`CallbackRejected` when the query contradicts it and :class:`ConfirmFailed`
    when the query fails."""
    if client is None or not event.status.is_terminal:
        return event
    query = _status_query(event)
    if query is None:
        _logger.info("%s cannot be confirmed by a status query", type(event).__name__)
        return event
    from .._reconcile import reconcile  # imported on first use: it loads every resource

    product, reference, channel = query
    try:
        with anyio.fail_after(timeout):
            found = await reconcile(client, reference, product=product, channel=channel)
    except NotFoundError:
        _logger.warning(
            "%s %s refused: the merchant's status query does not know %s",
            type(event).__name__,
            event.dedupe_key,
            reference,
        )
        raise CallbackRejected(404, "01", "Transaction Not Found", reason="unconfirmed") from None
    except ValidationError as exc:
        _logger.info("%s cannot be confirmed (%s)", type(event).__name__, exc.field)
        return event
    except Exception as exc:  # transport, 5xx, rate limit, our own deadline
        _logger.warning(
            "could not confirm %s %s (%s); answering 503 so Ayolinx retries",
            type(event).__name__,
            event.dedupe_key,
            type(exc).__name__,
        )
        raise ConfirmFailed from None
    if found.latest_transaction_status is None:
        _logger.warning("status query for %s answered without a status", reference)
        raise ConfirmFailed
    mismatch = _disagreement(event, found)
    if mismatch is not None:
        _logger.warning(
            "%s %s refused: its %s disagrees with the merchant's status query",
            type(event).__name__,
            event.dedupe_key,
            mismatch,
        )
        raise CallbackRejected(
            409, "00", f"Conflict. The {mismatch} was not confirmed", reason="unconfirmed"
        )
    return attrs.evolve(event, confirmed=True)

"""Answer "did it happen?" after an :class:`~ayolinx_async.OutcomeUnknownError` in one call.

A money-moving call that timed out (or met a 5xx) may or may not have taken effect. Re-sending
it blindly risks a double charge; the safe move is to query the transaction's status by the
same partner reference. :func:`reconcile` maps the failed call's path to the product's status
query and returns the typed status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._endpoints import Endpoint, PaymentProduct
from ._errors import OutcomeUnknownError, ValidationError
from ._resources.ewallet import EwalletResource
from ._resources.qris import QrisResource
from ._resources.retail import RetailResource
from ._resources.virtual_account import VirtualAccountsResource
from .models._common import Channel, TransactionStatusResponse
from .transport._base import Timeout

if TYPE_CHECKING:
    from ._client import AyolinxClient

__all__ = ["product_for_path", "reconcile"]

#: Channels a product has only one of, so a caller need not repeat them (docs/protocol.md §15).
_DEFAULT_CHANNEL: dict[PaymentProduct, Channel] = {
    PaymentProduct.QRIS: Channel.BNC_QRIS,
    PaymentProduct.EWALLET: Channel.EMONEY_DANA_SNAP,
}


def product_for_path(path: str) -> PaymentProduct | None:
    """The product an endpoint path belongs to (``None`` for a path the SDK does not model)."""
    endpoint = Endpoint.by_path(path)
    return endpoint.product if endpoint is not None else None


def _as_product(value: PaymentProduct | str) -> PaymentProduct:
    try:
        return PaymentProduct(value)
    except ValueError:
        names = ", ".join(p.value for p in PaymentProduct)
        raise ValidationError("product", f"must be one of {names}, got {value!r}") from None


def _error_channel(error: OutcomeUnknownError) -> str | None:
    """The channel the failed call was sent with, when the error records it."""
    value = getattr(error, "channel", None)
    return value if isinstance(value, str) and value else None


async def reconcile(
    client: AyolinxClient,
    error_or_reference: OutcomeUnknownError | str,
    *,
    product: PaymentProduct | str | None = None,
    channel: Channel | str | None = None,
    timeout: float | Timeout | None = None,
) -> TransactionStatusResponse:
    """Query the status of the transaction an uncertain call was about and return it typed.

    Pass the :class:`~ayolinx_async.OutcomeUnknownError` itself (its path picks the product and
    its ``partner_reference_no`` the transaction), or a partner reference plus ``product=``.
    ``channel`` is needed for virtual accounts and retail unless the error records it.
    The query is read-only, so it is retried on transient failures like any status call.
    A :class:`~ayolinx_async.NotFoundError` means Ayolinx has no such transaction *yet*: right
    after a timeout it may still be processing. To try again, re-send the create with the SAME
    ``partnerReferenceNo`` (a duplicate is refused with 409xx01), never under a new one.
    """
    if isinstance(error_or_reference, OutcomeUnknownError):
        error = error_or_reference
        reference = error.partner_reference_no
        if not reference:
            raise ValidationError(
                "partner_reference_no",
                f"the failed call to {error.path} carried no reference to query by",
            )
        if product is None:
            product = product_for_path(error.path)
            if product is None:
                raise ValidationError(
                    "product", f"{error.path} is not a known endpoint; pass product= explicitly"
                )
        channel = channel if channel is not None else _error_channel(error)
    elif isinstance(error_or_reference, str):
        reference = error_or_reference
        if not reference.strip():
            raise ValidationError("reference", "is required and must not be blank")
        if product is None:
            raise ValidationError("product", "is required when reconciling by reference")
    else:
        raise ValidationError(
            "error_or_reference",
            f"must be an OutcomeUnknownError or a reference string,"
            f" not {type(error_or_reference).__name__}",
        )
    return await _query(client, _as_product(product), reference, channel, timeout)


async def _query(
    client: AyolinxClient,
    product: PaymentProduct,
    reference: str,
    channel: Channel | str | None,
    timeout: float | Timeout | None,
) -> TransactionStatusResponse:
    """Run the product's status query (each resource validates its own arguments)."""
    if product is PaymentProduct.PAYMENT_LINK:
        raise ValidationError(
            "product",
            "payment links have no status query (docs/protocol.md §17.10);"
            " wait for the payment-link callback",
        )
    if channel is None:
        channel = _DEFAULT_CHANNEL.get(product)
    if product is PaymentProduct.QRIS:
        return await QrisResource(client).query(
            original_partner_reference_no=reference, channel=channel, timeout=timeout
        )
    if product is PaymentProduct.EWALLET:
        return await EwalletResource(client).inquire_status(
            original_partner_reference_no=reference, channel=channel, timeout=timeout
        )
    if channel is None:
        raise ValidationError(
            "channel", f"is required to reconcile a {product.value} transaction; pass channel="
        )
    if product is PaymentProduct.VIRTUAL_ACCOUNT:
        return await VirtualAccountsResource(client).inquire(
            original_partner_reference_no=reference, channel=channel, timeout=timeout
        )
    return await RetailResource(client).query(
        original_partner_reference_no=reference, channel=channel, timeout=timeout
    )

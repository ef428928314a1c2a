"""``client.ewallet``: DANA payment URL and status (docs/protocol.md §17.4-§17.5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._endpoints import Endpoint
from ..models._common import AmountInput, Channel, UrlParam, ValidUpToFormat
from ..models._ewallet import (
    EwalletPaymentRequest,
    EwalletPaymentResponse,
    EwalletStatusRequest,
    EwalletStatusResponse,
)
from ..transport._base import Timeout
from ._base import PaymentTrackerLike, Resource

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = ["PAYMENT_PATH", "STATUS_PATH", "EwalletResource"]

#: Kept for code that imported them; the catalogue (``Endpoint``) is the source.
PAYMENT_PATH = Endpoint.EWALLET_PAYMENT.path
STATUS_PATH = Endpoint.EWALLET_STATUS.path


class EwalletResource(Resource):
    """E-wallet payments (``EMONEY_DANA_SNAP``): the payer is redirected to DANA.

    ``valid_up_to_format`` sets how ``validUpTo`` is rendered when a call does not say
    (default Unix seconds, the form seen working; docs/protocol.md §19.12).
    """

    def __init__(
        self,
        client: AyolinxClient,
        *,
        valid_up_to_format: ValidUpToFormat = ValidUpToFormat.UNIX_SECONDS,
    ) -> None:
        super().__init__(client)
        self.valid_up_to_format = valid_up_to_format

    async def create_payment(
        self,
        request: EwalletPaymentRequest | None = None,
        *,
        partner_reference_no: str | None = None,
        amount: AmountInput | None = None,
        channel: Channel | str | None = None,
        return_url: str | None = None,
        notification_url: str | None = None,
        url_params: Iterable[UrlParam] | None = None,
        valid_up_to: datetime | None = None,
        valid_up_to_format: ValidUpToFormat | None = None,
        sub_merchant_id: str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
        track: PaymentTrackerLike | bool | None = None,
    ) -> EwalletPaymentResponse:
        """Start a DANA payment and get the URL to send the payer to (money-moving).

        ``return_url`` becomes a PAY_RETURN entry and ``notification_url`` a NOTIFICATION one.
        """
        return await self._call(
            Endpoint.EWALLET_PAYMENT,
            EwalletPaymentRequest,
            EwalletPaymentResponse,
            locals(),
            valid_up_to_format=self.valid_up_to_format,
        )

    async def inquire_status(
        self,
        request: EwalletStatusRequest | None = None,
        *,
        original_partner_reference_no: str | None = None,
        channel: Channel | str | None = None,
        original_reference_no: str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> EwalletStatusResponse:
        """Read a DANA payment's status by your reference (read-only)."""
        return await self._call(
            Endpoint.EWALLET_STATUS, EwalletStatusRequest, EwalletStatusResponse, locals()
        )

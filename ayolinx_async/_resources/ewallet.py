"""``client.ewallet``: DANA payment URL and status (spec §11.4-§11.5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..models._common import AmountInput, Channel, UrlParam, ValidUpToFormat
from ..models._ewallet import (
    EwalletPaymentRequest,
    EwalletPaymentResponse,
    EwalletStatusRequest,
    EwalletStatusResponse,
)
from ..transport._base import Timeout
from ._base import Resource, build_url_params, only_request, required, required_amount

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = ["PAYMENT_PATH", "STATUS_PATH", "EwalletResource"]

PAYMENT_PATH = "/direct-debit/core/v1/debit/payment-host-to-host"
STATUS_PATH = "/direct-debit/core/v1/debit/status"


class EwalletResource(Resource):
    """E-wallet payments (``EMONEY_DANA_SNAP``): the payer is redirected to DANA.

    ``valid_up_to_format`` sets how ``validUpTo`` is rendered when a call does not say
    (default Unix seconds, the form seen working; spec §13.14).
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
    ) -> EwalletPaymentResponse:
        """Start a DANA payment and get the URL to send the payer to (money-moving).

        ``return_url`` becomes a PAY_RETURN entry and ``notification_url`` a NOTIFICATION one.
        """
        given = {
            "partner_reference_no": partner_reference_no,
            "amount": amount,
            "channel": channel,
            "return_url": return_url,
            "notification_url": notification_url,
            "url_params": url_params,
            "valid_up_to": valid_up_to,
            "valid_up_to_format": valid_up_to_format,
            "sub_merchant_id": sub_merchant_id,
            "additional_info": additional_info,
        }
        if request is None:
            request = EwalletPaymentRequest(
                partner_reference_no=required("partner_reference_no", partner_reference_no),
                amount=required_amount("amount", amount),
                channel=channel if channel is not None else Channel.EMONEY_DANA_SNAP,
                url_params=build_url_params(
                    url_params, return_url=return_url, notification_url=notification_url
                ),
                valid_up_to=valid_up_to,
                valid_up_to_format=valid_up_to_format or self.valid_up_to_format,
                sub_merchant_id=sub_merchant_id,
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._send(
            PAYMENT_PATH,
            request,
            EwalletPaymentResponse.from_response,
            money_moving=True,
            reference=request.partner_reference_no,
            external_id=external_id,
            timeout=timeout,
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
        given = {
            "original_partner_reference_no": original_partner_reference_no,
            "channel": channel,
            "original_reference_no": original_reference_no,
            "additional_info": additional_info,
        }
        if request is None:
            request = EwalletStatusRequest(
                original_partner_reference_no=required(
                    "original_partner_reference_no", original_partner_reference_no
                ),
                channel=channel if channel is not None else Channel.EMONEY_DANA_SNAP,
                original_reference_no=original_reference_no,
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._query_status(
            STATUS_PATH, request, EwalletStatusResponse, external_id=external_id, timeout=timeout
        )

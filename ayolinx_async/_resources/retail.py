"""``client.retail``: convenience-store payment codes (spec §11.8-§11.9)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..models._common import AmountInput, Channel, UrlParam, ValidUpToFormat
from ..models._retail import (
    RetailCreateRequest,
    RetailCreateResponse,
    RetailQueryRequest,
    RetailQueryResponse,
)
from ..transport._base import Timeout
from ._base import Resource, build_url_params, only_request, required, required_amount

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = ["CREATE_PATH", "QUERY_PATH", "RetailResource"]

CREATE_PATH = "/v1.0/retail/create"
QUERY_PATH = "/v1.0/retail/query"


class RetailResource(Resource):
    """Pay at Alfamidi, Pegadaian, Pos Indonesia, Dan+Dan … with a payment code.

    A successful create answers ``responseCode "00"`` (spec §13.8), which the client's default
    success rule accepts; ``valid_up_to_format`` picks the ``validUpTo`` form (ISO by default).
    """

    def __init__(
        self,
        client: AyolinxClient,
        *,
        valid_up_to_format: ValidUpToFormat = ValidUpToFormat.ISO_8601,
    ) -> None:
        super().__init__(client)
        self.valid_up_to_format = valid_up_to_format

    async def create(
        self,
        request: RetailCreateRequest | None = None,
        *,
        partner_reference_no: str | None = None,
        amount: AmountInput | None = None,
        channel: Channel | str | None = None,
        valid_up_to: datetime | None = None,
        customer_name: str | None = None,
        customer_email: str | None = None,
        customer_phone: str | None = None,
        notification_url: str | None = None,
        url_params: Iterable[UrlParam] | None = None,
        valid_up_to_format: ValidUpToFormat | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> RetailCreateResponse:
        """Issue a payment code to quote at the counter (money-moving)."""
        given = {
            "partner_reference_no": partner_reference_no,
            "amount": amount,
            "channel": channel,
            "valid_up_to": valid_up_to,
            "customer_name": customer_name,
            "customer_email": customer_email,
            "customer_phone": customer_phone,
            "notification_url": notification_url,
            "url_params": url_params,
            "valid_up_to_format": valid_up_to_format,
            "additional_info": additional_info,
        }
        if request is None:
            request = RetailCreateRequest(
                partner_reference_no=required("partner_reference_no", partner_reference_no),
                amount=required_amount("amount", amount),
                channel=required("channel", channel),
                valid_up_to=required("valid_up_to", valid_up_to),
                customer_name=required("customer_name", customer_name),
                customer_email=required("customer_email", customer_email),
                customer_phone=customer_phone,
                url_params=build_url_params(url_params, notification_url=notification_url),
                valid_up_to_format=valid_up_to_format or self.valid_up_to_format,
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._send(
            CREATE_PATH,
            request,
            RetailCreateResponse.from_response,
            money_moving=True,
            reference=request.partner_reference_no,
            external_id=external_id,
            timeout=timeout,
        )

    async def query(
        self,
        request: RetailQueryRequest | None = None,
        *,
        original_partner_reference_no: str | None = None,
        channel: Channel | str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> RetailQueryResponse:
        """Read a retail payment's status by your reference and channel (read-only)."""
        given = {
            "original_partner_reference_no": original_partner_reference_no,
            "channel": channel,
            "additional_info": additional_info,
        }
        if request is None:
            request = RetailQueryRequest(
                original_partner_reference_no=required(
                    "original_partner_reference_no", original_partner_reference_no
                ),
                channel=required("channel", channel),
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._query_status(
            QUERY_PATH, request, RetailQueryResponse, external_id=external_id, timeout=timeout
        )

"""``client.payment_links``: hosted payment pages (spec §11.10)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime

from ..models._common import Channel, UrlParam
from ..models._payment_link import (
    PaymentLinkCreateRequest,
    PaymentLinkCreateResponse,
    PaymentLinkItem,
)
from ..transport._base import Timeout
from ._base import Resource, build_url_params, only_request, required

__all__ = ["CREATE_PATH", "PaymentLinksResource"]

CREATE_PATH = "/v1.0/payment-link/create"


class PaymentLinksResource(Resource):
    """Payment links: Ayolinx hosts a page where the payer picks QRIS, DANA or a VA."""

    async def create(
        self,
        request: PaymentLinkCreateRequest | None = None,
        *,
        partner_reference_no: str | None = None,
        items: Iterable[PaymentLinkItem] | None = None,
        customer_name: str | None = None,
        customer_email: str | None = None,
        customer_phone_number: str | None = None,
        customer_phone_number_country_code: str | None = None,
        payment_channels: Iterable[Channel | str] | None = None,
        description: str | None = None,
        expiry_time: datetime | None = None,
        notification_url: str | None = None,
        url_params: Iterable[UrlParam] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> PaymentLinkCreateResponse:
        """Create a link (money-moving). The response's ``link_id`` is Ayolinx's id for it;
        ``partner_reference_no`` stays yours (spec §11.10)."""
        given = {
            "partner_reference_no": partner_reference_no,
            "items": items,
            "customer_name": customer_name,
            "customer_email": customer_email,
            "customer_phone_number": customer_phone_number,
            "customer_phone_number_country_code": customer_phone_number_country_code,
            "payment_channels": payment_channels,
            "description": description,
            "expiry_time": expiry_time,
            "notification_url": notification_url,
            "url_params": url_params,
        }
        if request is None:
            request = PaymentLinkCreateRequest(
                partner_reference_no=required("partner_reference_no", partner_reference_no),
                items=required("items", items),
                customer_name=customer_name,
                customer_email=customer_email,
                customer_phone_number=customer_phone_number,
                customer_phone_number_country_code=customer_phone_number_country_code,
                payment_channels=payment_channels if payment_channels is not None else (),
                description=description if description is not None else "",
                expiry_time=expiry_time,
                url_params=build_url_params(url_params, notification_url=notification_url),
            )
        else:
            only_request(request, given)
        return await self._send(
            CREATE_PATH,
            request,
            functools.partial(PaymentLinkCreateResponse.from_response, request=request),
            money_moving=True,
            reference=request.partner_reference_no,
            external_id=external_id,
            timeout=timeout,
        )

"""``client.payment_links``: hosted payment pages (docs/protocol.md §17.10)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime

from .._endpoints import Endpoint
from ..models._common import Channel, UrlParam
from ..models._payment_link import (
    PaymentLinkCreateRequest,
    PaymentLinkCreateResponse,
    PaymentLinkItem,
)
from ..transport._base import Timeout
from ._base import PaymentTrackerLike, Resource, build_request

__all__ = ["CREATE_PATH", "PaymentLinksResource"]

#: Kept for code that imported them; the catalogue (``Endpoint``) is the source.
CREATE_PATH = Endpoint.PAYMENT_LINK_CREATE.path


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
        track: PaymentTrackerLike | bool | None = None,
    ) -> PaymentLinkCreateResponse:
        """Create a link (money-moving). The response's ``link_id`` is Ayolinx's id for it;
        ``partner_reference_no`` stays yours (docs/protocol.md §17.10)."""
        request = build_request(PaymentLinkCreateRequest, request, locals())
        return await self._submit(
            Endpoint.PAYMENT_LINK_CREATE,
            request,
            functools.partial(PaymentLinkCreateResponse.from_response, request=request),
            external_id,
            timeout,
            self._tracker_for(track),
        )

"""``client.retail``: convenience-store payment codes (docs/protocol.md §17.8-§17.9)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._endpoints import Endpoint
from ..models._common import AmountInput, Channel, UrlParam, ValidUpToFormat
from ..models._retail import (
    RetailCreateRequest,
    RetailCreateResponse,
    RetailQueryRequest,
    RetailQueryResponse,
)
from ..transport._base import Timeout
from ._base import PaymentTrackerLike, Resource

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = ["CREATE_PATH", "QUERY_PATH", "RetailResource"]

#: Kept for code that imported them; the catalogue (``Endpoint``) is the source.
CREATE_PATH = Endpoint.RETAIL_CREATE.path
QUERY_PATH = Endpoint.RETAIL_QUERY.path


class RetailResource(Resource):
    """Pay at Alfamidi, Pegadaian, Pos Indonesia, Dan+Dan … with a payment code.

    A successful create answers ``responseCode "00"`` (docs/protocol.md §19.11), which the client's
    default success rule accepts; ``valid_up_to_format`` picks the ``validUpTo`` form
    (ISO by default).
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
        track: PaymentTrackerLike | bool | None = None,
    ) -> RetailCreateResponse:
        """Issue a payment code to quote at the counter (money-moving)."""
        return await self._call(
            Endpoint.RETAIL_CREATE,
            RetailCreateRequest,
            RetailCreateResponse,
            locals(),
            valid_up_to_format=self.valid_up_to_format,
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
        return await self._call(
            Endpoint.RETAIL_QUERY, RetailQueryRequest, RetailQueryResponse, locals()
        )

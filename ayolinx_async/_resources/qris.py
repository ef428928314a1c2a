"""``client.qris``: generate, query and cancel dynamic QRIS codes (docs/protocol.md §17.1-§17.3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .._endpoints import Endpoint
from ..models._common import AmountInput, Channel, UrlParam
from ..models._qris import (
    QrisCancelRequest,
    QrisCancelResponse,
    QrisGenerateRequest,
    QrisGenerateResponse,
    QrisQueryRequest,
    QrisQueryResponse,
)
from ..transport._base import Timeout
from ._base import PaymentTrackerLike, Resource

__all__ = ["GENERATE_PATH", "QUERY_PATH", "CANCEL_PATH", "QrisResource"]

#: Kept for code that imported them; the catalogue (``Endpoint``) is the source.
GENERATE_PATH = Endpoint.QRIS_GENERATE.path
QUERY_PATH = Endpoint.QRIS_QUERY.path
CANCEL_PATH = Endpoint.QRIS_CANCEL.path


class QrisResource(Resource):
    """QRIS MPM through Ayolinx (acquirer Bank Neo Commerce, channel ``BNC_QRIS``).

    Each method takes either a request model or keyword arguments, validates before anything
    is sent, and returns a typed response with the raw answer in ``.raw``.
    """

    async def generate(
        self,
        request: QrisGenerateRequest | None = None,
        *,
        partner_reference_no: str | None = None,
        amount: AmountInput | None = None,
        channel: Channel | str | None = None,
        notification_url: str | None = None,
        url_params: Iterable[UrlParam] | None = None,
        valid_up_to: datetime | None = None,
        validity_period: datetime | None = None,
        sub_merchant_id: str | None = None,
        merchant_id: str | None = None,
        store_id: str | None = None,
        terminal_id: str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
        track: PaymentTrackerLike | bool | None = None,
    ) -> QrisGenerateResponse:
        """Create a dynamic QR for ``amount`` (money-moving: never blindly re-sent)."""
        return await self._call(
            Endpoint.QRIS_GENERATE, QrisGenerateRequest, QrisGenerateResponse, locals()
        )

    async def query(
        self,
        request: QrisQueryRequest | None = None,
        *,
        original_partner_reference_no: str | None = None,
        channel: Channel | str | None = None,
        original_reference_no: str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> QrisQueryResponse:
        """Read a QR's status by your reference (read-only: retried on transient failures)."""
        return await self._call(Endpoint.QRIS_QUERY, QrisQueryRequest, QrisQueryResponse, locals())

    async def cancel(
        self,
        request: QrisCancelRequest | None = None,
        *,
        original_partner_reference_no: str | None = None,
        channel: Channel | str | None = None,
        original_reference_no: str | None = None,
        reason: str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> QrisCancelResponse:
        """Void an unpaid QR (money-moving). There is no refund endpoint
        (docs/protocol.md §17.3)."""
        return await self._call(
            Endpoint.QRIS_CANCEL, QrisCancelRequest, QrisCancelResponse, locals()
        )

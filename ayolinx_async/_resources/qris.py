"""``client.qris``: generate, query and cancel dynamic QRIS codes (spec §11.1-§11.3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

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
from ._base import Resource, build_url_params, only_request, required, required_amount

__all__ = ["GENERATE_PATH", "QUERY_PATH", "CANCEL_PATH", "QrisResource"]

GENERATE_PATH = "/v1.0/qr/qr-mpm-generate"
QUERY_PATH = "/v1.0/qr/qr-mpm-query"
CANCEL_PATH = "/v1.0/qr/qr-mpm-cancel"


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
    ) -> QrisGenerateResponse:
        """Create a dynamic QR for ``amount`` (money-moving: never blindly re-sent)."""
        given = {
            "partner_reference_no": partner_reference_no,
            "amount": amount,
            "channel": channel,
            "notification_url": notification_url,
            "url_params": url_params,
            "valid_up_to": valid_up_to,
            "validity_period": validity_period,
            "sub_merchant_id": sub_merchant_id,
            "merchant_id": merchant_id,
            "store_id": store_id,
            "terminal_id": terminal_id,
            "additional_info": additional_info,
        }
        if request is None:
            request = QrisGenerateRequest(
                partner_reference_no=required("partner_reference_no", partner_reference_no),
                amount=required_amount("amount", amount),
                channel=channel if channel is not None else Channel.BNC_QRIS,
                url_params=build_url_params(url_params, notification_url=notification_url),
                valid_up_to=valid_up_to,
                validity_period=validity_period,
                sub_merchant_id=sub_merchant_id,
                merchant_id=merchant_id,
                store_id=store_id,
                terminal_id=terminal_id,
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._send(
            GENERATE_PATH,
            request,
            QrisGenerateResponse.from_response,
            money_moving=True,
            reference=request.partner_reference_no,
            external_id=external_id,
            timeout=timeout,
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
        given = {
            "original_partner_reference_no": original_partner_reference_no,
            "channel": channel,
            "original_reference_no": original_reference_no,
            "additional_info": additional_info,
        }
        if request is None:
            request = QrisQueryRequest(
                original_partner_reference_no=required(
                    "original_partner_reference_no", original_partner_reference_no
                ),
                channel=channel if channel is not None else Channel.BNC_QRIS,
                original_reference_no=original_reference_no,
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._query_status(
            QUERY_PATH, request, QrisQueryResponse, external_id=external_id, timeout=timeout
        )

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
        """Void an unpaid QR (money-moving). There is no refund endpoint (spec §11.3)."""
        given = {
            "original_partner_reference_no": original_partner_reference_no,
            "channel": channel,
            "original_reference_no": original_reference_no,
            "reason": reason,
            "additional_info": additional_info,
        }
        if request is None:
            request = QrisCancelRequest(
                original_partner_reference_no=required(
                    "original_partner_reference_no", original_partner_reference_no
                ),
                channel=channel if channel is not None else Channel.BNC_QRIS,
                original_reference_no=original_reference_no,
                reason=reason,
                additional_info=additional_info,
            )
        else:
            only_request(request, given)
        return await self._send(
            CANCEL_PATH,
            request,
            QrisCancelResponse.from_response,
            money_moving=True,
            reference=request.original_partner_reference_no,
            external_id=external_id,
            timeout=timeout,
        )

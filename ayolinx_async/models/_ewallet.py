"""E-wallet (DANA, ``EMONEY_DANA_SNAP``): payment URL and status (docs/protocol.md §17.4-§17.5).

Both paths start with ``/direct-debit/core/v1/debit/`` (not ``/v1.0``) and are signed as-is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._checks import UrlParam, render_url_params, text_field, to_channel, to_url_params
from ._common import ResponseModel, TransactionStatusResponse
from ._enums import Channel, ValidUpToFormat
from ._fields import wire
from ._kit import optional_text, optional_time, received, received_info, setting
from ._money import Amount, check_idr, render_amount, to_request_amount
from ._requests import CHANNEL_WIRE, ReferencedStatusQuery, WireRequest, info_last
from ._times import render_valid_up_to_field

__all__ = [
    "EwalletPaymentRequest",
    "EwalletPaymentResponse",
    "EwalletStatusRequest",
    "EwalletStatusResponse",
]


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class EwalletPaymentRequest(WireRequest):
    """Body of ``POST /direct-debit/core/v1/debit/payment-host-to-host`` ("Get Payment Url").

    ``valid_up_to`` is sent as Unix seconds by default, the form working integrations use;
    ``valid_up_to_format=ValidUpToFormat.ISO_8601`` switches to the SNAP form.
    ``url_params`` usually holds a ``PAY_RETURN`` (browser comes back) and a ``NOTIFICATION``
    (callback) URL. ``sub_merchant_id`` is top-level here, unlike QRIS (docs/protocol.md §17.4).
    """

    partner_reference_no: str = attrs.field(
        validator=text_field(64, kind="reference"), metadata=wire("partnerReferenceNo")
    )
    valid_up_to: datetime | None = optional_time("validUpTo", render=render_valid_up_to_field)
    amount: Amount = attrs.field(
        converter=to_request_amount, metadata=wire("amount", render=render_amount)
    )
    url_params: tuple[UrlParam, ...] = attrs.field(
        default=(), converter=to_url_params, metadata=wire("urlParams", render=render_url_params)
    )
    channel: Channel = attrs.field(
        default=Channel.EMONEY_DANA_SNAP, converter=to_channel, metadata=CHANNEL_WIRE
    )
    sub_merchant_id: str | None = optional_text("subMerchantId", 32)
    valid_up_to_format: ValidUpToFormat = setting(ValidUpToFormat.UNIX_SECONDS)
    allow_non_idr: bool = setting(False)

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)


@attrs.frozen(kw_only=True, slots=True)
class EwalletPaymentResponse(ResponseModel):
    """Redirect the payer to ``web_redirect_url``; success code ``2005400``.

    ``reference_no`` / ``partner_reference_no`` are SNAP fields Ayolinx may or may not send.
    """

    web_redirect_url: str | None = received("webRedirectUrl")
    reference_no: str | None = received("referenceNo")
    partner_reference_no: str | None = received("partnerReferenceNo")
    additional_info: Mapping[str, Any] = received_info()


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class EwalletStatusRequest(ReferencedStatusQuery):
    """Body of ``POST /direct-debit/core/v1/debit/status`` (documented, docs/protocol.md §17.5)."""

    channel: Channel = attrs.field(
        default=Channel.EMONEY_DANA_SNAP, converter=to_channel, metadata=CHANNEL_WIRE
    )


@attrs.frozen(kw_only=True, slots=True)
class EwalletStatusResponse(TransactionStatusResponse):
    """DANA payment status (SNAP debit-status shape, ``2005500`` expected;
    docs/protocol.md §17.5)."""

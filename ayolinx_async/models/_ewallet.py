"""E-wallet (DANA, ``EMONEY_DANA_SNAP``): payment URL and status (spec §11.4-§11.5, notes §6).

Both paths start with ``/direct-debit/core/v1/debit/`` (not ``/v1.0``) and are signed as-is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

import attrs

from .._response import APIResponse
from ._common import (
    Amount,
    Channel,
    ResponseModel,
    TransactionStatusResponse,
    UrlParam,
    ValidUpToFormat,
    body_mapping,
    body_str,
    channel_info,
    check_idr,
    instance_field,
    optional_aware_datetime,
    optional_text_field,
    put,
    render_valid_up_to,
    reserved_keys,
    response_fields,
    status_query_body,
    text_field,
    to_additional_info,
    to_channel,
    to_request_amount,
    to_url_params,
)

__all__ = [
    "EwalletPaymentRequest",
    "EwalletPaymentResponse",
    "EwalletStatusRequest",
    "EwalletStatusResponse",
    "ValidUpToFormat",
]


@attrs.frozen(kw_only=True, slots=True)
class EwalletPaymentRequest:
    """Body of ``POST /direct-debit/core/v1/debit/payment-host-to-host`` ("Get Payment Url").

    ``valid_up_to`` is sent as Unix seconds by default, the form working integrations use;
    ``valid_up_to_format=ValidUpToFormat.ISO_8601`` switches to the SNAP form.
    ``url_params`` usually holds a ``PAY_RETURN`` (browser comes back) and a ``NOTIFICATION``
    (callback) URL. ``sub_merchant_id`` is top-level here, unlike QRIS (notes §6).
    """

    partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    amount: Amount = attrs.field(converter=to_request_amount)
    channel: Channel = attrs.field(default=Channel.EMONEY_DANA_SNAP, converter=to_channel)
    url_params: tuple[UrlParam, ...] = attrs.field(default=(), converter=to_url_params)
    valid_up_to: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    valid_up_to_format: ValidUpToFormat = attrs.field(
        default=ValidUpToFormat.UNIX_SECONDS,
        validator=instance_field(ValidUpToFormat),
    )
    sub_merchant_id: str | None = attrs.field(default=None, validator=optional_text_field(32))
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_additional_info, validator=reserved_keys("channel")
    )
    allow_non_idr: bool = attrs.field(default=False, validator=instance_field(bool))

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"partnerReferenceNo": self.partner_reference_no}
        if self.valid_up_to is not None:
            body["validUpTo"] = render_valid_up_to(
                self.valid_up_to, self.valid_up_to_format, field="valid_up_to"
            )
        body["amount"] = self.amount.to_wire()
        if self.url_params:
            body["urlParams"] = [param.to_wire() for param in self.url_params]
        body["additionalInfo"] = channel_info(self.channel, self.additional_info)
        put(body, "subMerchantId", self.sub_merchant_id)
        return body


@attrs.frozen(kw_only=True, slots=True)
class EwalletPaymentResponse(ResponseModel):
    """Redirect the payer to ``web_redirect_url``; success code ``2005400``.

    ``reference_no`` / ``partner_reference_no`` are SNAP fields Ayolinx may or may not send.
    """

    web_redirect_url: str | None = None
    reference_no: str | None = None
    partner_reference_no: str | None = None
    additional_info: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"webRedirectUrl", "referenceNo", "partnerReferenceNo", "additionalInfo"}
    )

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        body = api.body
        return cls(
            **response_fields(api, cls._KNOWN),
            web_redirect_url=body_str(body, "webRedirectUrl"),
            reference_no=body_str(body, "referenceNo"),
            partner_reference_no=body_str(body, "partnerReferenceNo"),
            additional_info=body_mapping(body, "additionalInfo"),
        )


@attrs.frozen(kw_only=True, slots=True)
class EwalletStatusRequest:
    """Body of ``POST /direct-debit/core/v1/debit/status`` (documented, spec §11.5)."""

    original_partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    channel: Channel = attrs.field(default=Channel.EMONEY_DANA_SNAP, converter=to_channel)
    original_reference_no: str | None = attrs.field(
        default=None, validator=optional_text_field(64, kind="reference")
    )
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_additional_info, validator=reserved_keys("channel")
    )

    def to_wire(self) -> dict[str, Any]:
        return status_query_body(self, original_reference_no=self.original_reference_no)


@attrs.frozen(kw_only=True, slots=True)
class EwalletStatusResponse(TransactionStatusResponse):
    """DANA payment status (SNAP debit-status shape, ``2005500`` expected; spec §11.5)."""

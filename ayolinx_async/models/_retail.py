"""Convenience-store (retail) payments: create and query (spec §11.8-§11.9, notes §7).

Quirk: a successful create answers ``"responseCode": "00"``, not a 7-digit SNAP code
(spec §13.8); ``response_code.value`` keeps it verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

import attrs

from .._errors import ValidationError
from .._response import APIResponse
from ._common import (
    Amount,
    Channel,
    ResponseModel,
    TransactionStatusResponse,
    UrlParam,
    ValidUpToFormat,
    aware_datetime,
    body_mapping,
    body_str,
    channel_info,
    check_idr,
    instance_field,
    optional_text_field,
    parse_time,
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
    "RetailCreateRequest",
    "RetailCreateResponse",
    "RetailQueryRequest",
    "RetailQueryResponse",
]


def _retail_channel(_: Any, attribute: attrs.Attribute[Any], value: Channel) -> None:
    # RETAIL_ALFAMART is listed for query but not create (spec §13.6); both are accepted.
    if value.is_known and not value.is_retail:
        raise ValidationError(attribute.name, f"{value} is not a retail channel")


@attrs.frozen(kw_only=True, slots=True)
class RetailCreateRequest:
    """Body of ``POST /v1.0/retail/create`` (documented field table, spec §11.8).

    The ``validUpTo`` format is not documented; ISO-8601 ``+07:00`` is sent by default and
    ``valid_up_to_format=ValidUpToFormat.UNIX_SECONDS`` switches to the DANA form.
    """

    partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    amount: Amount = attrs.field(converter=to_request_amount)
    channel: Channel = attrs.field(converter=to_channel, validator=_retail_channel)
    valid_up_to: datetime = attrs.field(validator=aware_datetime)
    customer_name: str = attrs.field(validator=text_field(255))
    customer_email: str = attrs.field(validator=text_field(255, kind="email"))
    customer_phone: str | None = attrs.field(
        default=None, validator=optional_text_field(30, kind="phone")
    )
    url_params: tuple[UrlParam, ...] = attrs.field(default=(), converter=to_url_params)
    valid_up_to_format: ValidUpToFormat = attrs.field(
        default=ValidUpToFormat.ISO_8601, validator=instance_field(ValidUpToFormat)
    )
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_additional_info, validator=reserved_keys("channel")
    )
    allow_non_idr: bool = attrs.field(default=False, validator=instance_field(bool))

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "partnerReferenceNo": self.partner_reference_no,
            "validUpTo": render_valid_up_to(
                self.valid_up_to, self.valid_up_to_format, field="valid_up_to"
            ),
            "customerName": self.customer_name,
            "customerEmail": self.customer_email,
        }
        put(body, "customerPhone", self.customer_phone)
        body["amount"] = self.amount.to_wire()
        if self.url_params:
            body["urlParams"] = [param.to_wire() for param in self.url_params]
        body["additionalInfo"] = channel_info(self.channel, self.additional_info)
        return body


@attrs.frozen(kw_only=True, slots=True)
class RetailCreateResponse(ResponseModel):
    """A retail payment code: the payer quotes ``va_number`` at the counter; ``payment_url``
    shows the instructions."""

    partner_reference_no: str | None = None
    expiry_date: datetime | None = None
    va_number: str | None = None
    payment_url: str | None = None
    additional_info: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"partnerReferenceNo", "expiryDate", "vaNumber", "paymentUrl", "additionalInfo"}
    )

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        body = api.body
        return cls(
            **response_fields(api, cls._KNOWN),
            partner_reference_no=body_str(body, "partnerReferenceNo"),
            expiry_date=parse_time(body.get("expiryDate")),
            va_number=body_str(body, "vaNumber"),
            payment_url=body_str(body, "paymentUrl"),
            additional_info=body_mapping(body, "additionalInfo"),
        )


@attrs.frozen(kw_only=True, slots=True)
class RetailQueryRequest:
    """Body of ``POST /v1.0/retail/query`` (spec §11.9): your reference and the channel."""

    original_partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    channel: Channel = attrs.field(converter=to_channel, validator=_retail_channel)
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_additional_info, validator=reserved_keys("channel")
    )

    def to_wire(self) -> dict[str, Any]:
        return status_query_body(self)


@attrs.frozen(kw_only=True, slots=True)
class RetailQueryResponse(TransactionStatusResponse):
    """Retail status (response schema not published; read like the other status queries)."""

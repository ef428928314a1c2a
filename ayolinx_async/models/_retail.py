"""Convenience-store (retail) payments: create and query (docs/protocol.md §17.8-§17.9).

Quirk: a successful create answers ``"responseCode": "00"``, not a 7-digit SNAP code
(docs/protocol.md §19.11); ``response_code.value`` keeps it verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .._errors import ValidationError
from ._checks import UrlParam, render_url_params, text_field, to_channel, to_url_params
from ._common import ResponseModel, TransactionStatusResponse
from ._enums import Channel, ValidUpToFormat
from ._fields import wire
from ._kit import optional_text, received, received_info, setting
from ._money import Amount, check_idr, render_amount, to_request_amount
from ._requests import CHANNEL_WIRE, StatusQuery, WireRequest, info_last
from ._times import aware_datetime, parse_time, render_valid_up_to_field

__all__ = [
    "RetailCreateRequest",
    "RetailCreateResponse",
    "RetailQueryRequest",
    "RetailQueryResponse",
]


def _retail_channel(_: Any, attribute: attrs.Attribute[Any], value: Channel) -> None:
    # RETAIL_ALFAMART is listed for query but not create (docs/protocol.md §19.16);
    # both are accepted.
    if value.is_known and not value.is_retail:
        raise ValidationError(attribute.name, f"{value} is not a retail channel")


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class RetailCreateRequest(WireRequest):
    """Body of ``POST /v1.0/retail/create`` (documented field table, docs/protocol.md §17.8).

    The ``validUpTo`` format is not documented; ISO-8601 ``+07:00`` is sent by default and
    ``valid_up_to_format=ValidUpToFormat.UNIX_SECONDS`` switches to the DANA form.
    """

    partner_reference_no: str = attrs.field(
        validator=text_field(64, kind="reference"), metadata=wire("partnerReferenceNo")
    )
    valid_up_to: datetime = attrs.field(
        validator=aware_datetime, metadata=wire("validUpTo", render=render_valid_up_to_field)
    )
    customer_name: str = attrs.field(validator=text_field(255), metadata=wire("customerName"))
    customer_email: str = attrs.field(
        validator=text_field(255, kind="email"), metadata=wire("customerEmail")
    )
    customer_phone: str | None = optional_text("customerPhone", 30, kind="phone")
    amount: Amount = attrs.field(
        converter=to_request_amount, metadata=wire("amount", render=render_amount)
    )
    url_params: tuple[UrlParam, ...] = attrs.field(
        default=(), converter=to_url_params, metadata=wire("urlParams", render=render_url_params)
    )
    channel: Channel = attrs.field(
        converter=to_channel, validator=_retail_channel, metadata=CHANNEL_WIRE
    )
    valid_up_to_format: ValidUpToFormat = setting(ValidUpToFormat.ISO_8601)
    allow_non_idr: bool = setting(False)

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)


@attrs.frozen(kw_only=True, slots=True)
class RetailCreateResponse(ResponseModel):
    """A retail payment code: the payer quotes ``va_number`` at the counter; ``payment_url``
    shows the instructions."""

    partner_reference_no: str | None = received("partnerReferenceNo")
    expiry_date: datetime | None = received("expiryDate", parse_time)
    va_number: str | None = received("vaNumber")
    payment_url: str | None = received("paymentUrl")
    additional_info: Mapping[str, Any] = received_info()


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class RetailQueryRequest(StatusQuery):
    """Body of ``POST /v1.0/retail/query`` (docs/protocol.md §17.9): your reference
    and the channel."""

    channel: Channel = attrs.field(
        converter=to_channel, validator=_retail_channel, metadata=CHANNEL_WIRE
    )


@attrs.frozen(kw_only=True, slots=True)
class RetailQueryResponse(TransactionStatusResponse):
    """Retail status (response schema not published; read like the other status queries)."""

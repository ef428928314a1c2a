"""Hosted payment links (docs/protocol.md §17.10, §18.5, §17.8).

Quirks handled here: success is ``2000100``; the response's ``partnerReferenceNo`` is the
**link id** (exposed as ``link_id``; your reference stays ``partner_reference_no``); item
prices are whole rupiah (``"20000"``); ``expiryDate`` comes back 7 h early but labelled
``+07:00``, so the requested expiry is kept next to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Self
from urllib.parse import urlsplit

import attrs

from .._errors import ValidationError
from .._response import APIResponse
from ._checks import UrlParam, check_text, render_url_params, text_field, to_url_params
from ._common import ResponseModel
from ._enums import Channel
from ._fields import render_wire, wire
from ._kit import optional_text, optional_time, received, received_info
from ._money import to_amount
from ._times import parse_time

__all__ = ["PaymentLinkCreateRequest", "PaymentLinkCreateResponse", "PaymentLinkItem"]

_COUNTRY_CODE = re.compile(r"^\+[0-9]{1,4}$")
_DEFAULT_COUNTRY_CODE = "+62"


def _price(value: Decimal | int | str | float) -> Decimal:
    price = to_amount(value, field="price")
    if price != price.to_integral_value():
        raise ValidationError("price", "must be a whole number of rupiah (docs/protocol.md §17.10)")
    return price


def _quantity(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(attribute.name, f"must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValidationError(attribute.name, "must be at least 1")


@attrs.frozen(kw_only=True, slots=True)
class PaymentLinkItem:
    """One ``listItem`` line: a name, a whole-rupiah unit price and a quantity."""

    name: str = attrs.field(validator=text_field(255))
    price: Decimal = attrs.field(converter=_price)
    quantity: int = attrs.field(default=1, validator=_quantity)

    @property
    def subtotal(self) -> Decimal:
        return self.price * self.quantity

    def to_wire(self) -> dict[str, str]:
        # The doc example sends price and qty as whole-number strings: "20000", "1".
        return {"name": self.name, "price": f"{self.price:.0f}", "qty": str(self.quantity)}


def _items(value: Iterable[PaymentLinkItem]) -> tuple[PaymentLinkItem, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("items", "must be a sequence of PaymentLinkItem")
    items = tuple(value)
    if not items:
        raise ValidationError("items", "needs at least one item")
    for index, item in enumerate(items):
        if not isinstance(item, PaymentLinkItem):
            raise ValidationError(f"items[{index}]", "must be a PaymentLinkItem")
    return items


def _channels(value: Iterable[Channel | str]) -> tuple[Channel, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("payment_channels", "must be a sequence of channel codes")
    channels = []
    for index, code in enumerate(value):
        check_text(code, field=f"payment_channels[{index}]", max_length=64, kind="reference")
        channels.append(Channel(code))
    return tuple(channels)


def _country_code(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    check_text(value, field=attribute.name, max_length=5)
    if not _COUNTRY_CODE.match(value):
        raise ValidationError(attribute.name, "must look like '+62'")


def _description(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(attribute.name, f"must be a string, not {type(value).__name__}")
    if value:
        check_text(value, field=attribute.name, max_length=255)


def _render_country_code(
    model: PaymentLinkCreateRequest, _: attrs.Attribute[Any], value: str | None
) -> str | None:
    # A phone number without a country code is sent with +62 (the doc example's value).
    if value is None and model.customer_phone_number is not None:
        return _DEFAULT_COUNTRY_CODE
    return value


def _render_items(
    _: Any, __: attrs.Attribute[Any], value: tuple[PaymentLinkItem, ...]
) -> list[dict[str, str]]:
    return [item.to_wire() for item in value]


def _render_channels(
    _: Any, __: attrs.Attribute[Any], value: tuple[Channel, ...]
) -> list[str] | None:
    return [str(channel) for channel in value] if value else None


@attrs.frozen(kw_only=True, slots=True)
class PaymentLinkCreateRequest:
    """Body of ``POST /v1.0/payment-link/create`` (shape of the doc example,
    docs/protocol.md §17.10).

    ``payment_channels`` limits what the hosted page offers. When a phone number is given
    without a country code, ``+62`` is sent (the doc example's value).
    """

    partner_reference_no: str = attrs.field(
        validator=text_field(64, kind="reference"), metadata=wire("partnerReferenceNo")
    )
    customer_name: str | None = optional_text("customerName", 255)
    customer_email: str | None = optional_text("customerEmail", 255, kind="email")
    customer_phone_number: str | None = optional_text("customerPhoneNumber", 20, kind="digits")
    customer_phone_number_country_code: str | None = attrs.field(
        default=None,
        validator=_country_code,
        metadata=wire("customerPhoneNumberCountryCode", render=_render_country_code),
    )
    items: tuple[PaymentLinkItem, ...] = attrs.field(
        converter=_items, metadata=wire("listItem", render=_render_items)
    )
    payment_channels: tuple[Channel, ...] = attrs.field(
        default=(),
        converter=_channels,
        metadata=wire("listPaymentChannel", render=_render_channels),
    )
    description: str = attrs.field(default="", validator=_description, metadata=wire("description"))
    expiry_time: datetime | None = optional_time("expiryTime")
    url_params: tuple[UrlParam, ...] = attrs.field(
        default=(), converter=to_url_params, metadata=wire("urlParams", render=render_url_params)
    )

    @property
    def total(self) -> Decimal:
        """What the payer will be asked for: the sum of the item subtotals."""
        return sum((item.subtotal for item in self.items), Decimal(0))

    def to_wire(self) -> dict[str, Any]:
        """The request body, in the shape of the documented example."""
        return render_wire(self)


def _link_id_from_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. "https://[" (an unclosed IPv6 host)
        return None
    segment = path.rstrip("/").rpartition("/")[2]
    return segment or None


@attrs.frozen(kw_only=True, slots=True)
class PaymentLinkCreateResponse(ResponseModel):
    """A created link (``2000100``). Send the payer to ``payment_link``.

    ``link_id`` is what Ayolinx returns as ``partnerReferenceNo`` (also ``additionalInfo.plh``
    in callbacks); ``partner_reference_no`` is **your** reference from the request.
    ``expiry_date`` is Ayolinx's value as labelled; ``requested_expiry_time`` is what you asked.
    """

    payment_link: str | None = received("paymentLink")
    link_id: str | None = received("partnerReferenceNo")
    partner_reference_no: str | None = None
    expiry_date: datetime | None = received("expiryDate", parse_time)
    requested_expiry_time: datetime | None = None
    additional_info: Mapping[str, Any] = received_info()

    @classmethod
    def from_response(
        cls, api: APIResponse, *, request: PaymentLinkCreateRequest | None = None
    ) -> Self:
        """Parse the answer; ``request`` supplies your own reference and requested expiry."""
        link = super().from_response(api)
        return attrs.evolve(
            link,
            link_id=link.link_id or _link_id_from_url(link.payment_link),
            partner_reference_no=request.partner_reference_no if request is not None else None,
            requested_expiry_time=request.expiry_time if request is not None else None,
        )

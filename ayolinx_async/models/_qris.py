"""QRIS (MPM, acquirer ``BNC_QRIS``): generate, query and cancel (spec §11.1-§11.3, notes §4).

The generate response carries **no Ayolinx reference** (spec §11.1): your
``partner_reference_no`` is the key for query, cancel and callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

import attrs

from .._errors import ResponseDecodeError
from .._response import APIResponse
from ._common import (
    Amount,
    Channel,
    ResponseModel,
    TransactionStatusResponse,
    UrlParam,
    body_mapping,
    body_str,
    channel_info,
    check_idr,
    format_jakarta,
    instance_field,
    merge_additional_info,
    optional_aware_datetime,
    optional_text_field,
    parse_time,
    put,
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
    "QrisCancelRequest",
    "QrisCancelResponse",
    "QrisGenerateRequest",
    "QrisGenerateResponse",
    "QrisQueryRequest",
    "QrisQueryResponse",
]


@attrs.frozen(kw_only=True, slots=True)
class QrisGenerateRequest:
    """Body of ``POST /v1.0/qr/qr-mpm-generate``.

    ``valid_up_to`` is sent as ISO-8601 ``+07:00`` (accepted by the sandbox, notes §4.1);
    ``sub_merchant_id`` goes into ``additionalInfo`` as integrations do; ``merchant_id``,
    ``store_id``, ``terminal_id`` and ``validity_period`` are SNAP optionals ([S], unconfirmed).
    """

    partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    amount: Amount = attrs.field(converter=to_request_amount)
    channel: Channel = attrs.field(default=Channel.BNC_QRIS, converter=to_channel)
    url_params: tuple[UrlParam, ...] = attrs.field(default=(), converter=to_url_params)
    valid_up_to: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    validity_period: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    sub_merchant_id: str | None = attrs.field(default=None, validator=optional_text_field(32))
    merchant_id: str | None = attrs.field(default=None, validator=optional_text_field(64))
    store_id: str | None = attrs.field(default=None, validator=optional_text_field(64))
    terminal_id: str | None = attrs.field(default=None, validator=optional_text_field(16))
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict,
        converter=to_additional_info,
        validator=reserved_keys("channel", "subMerchantId"),
    )
    allow_non_idr: bool = attrs.field(default=False, validator=instance_field(bool))

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "partnerReferenceNo": self.partner_reference_no,
            "amount": self.amount.to_wire(),
        }
        put(body, "merchantId", self.merchant_id)
        put(body, "storeId", self.store_id)
        put(body, "terminalId", self.terminal_id)
        body["additionalInfo"] = merge_additional_info(
            {"channel": str(self.channel), "subMerchantId": self.sub_merchant_id},
            self.additional_info,
        )
        if self.url_params:
            body["urlParams"] = [param.to_wire() for param in self.url_params]
        if self.valid_up_to is not None:
            body["validUpTo"] = format_jakarta(self.valid_up_to, field="valid_up_to")
        if self.validity_period is not None:
            body["validityPeriod"] = format_jakarta(self.validity_period, field="validity_period")
        return body


@attrs.frozen(kw_only=True, slots=True)
class QrisGenerateResponse(ResponseModel):
    """A generated dynamic QR. Render ``qr_content`` with :meth:`to_svg` / :meth:`to_png` /
    :meth:`to_terminal` (``[qr]`` extra).

    ``expired_date`` is documented as "seconds timestamp" but may be ISO; both are parsed and
    the original stays in ``body``. ``reference_no`` and ``qr_url`` are seen only sometimes.
    """

    partner_reference_no: str | None = None
    qr_content: str | None = None
    expired_date: datetime | None = None
    reference_no: str | None = None
    qr_url: str | None = None
    additional_info: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "partnerReferenceNo",
            "qrContent",
            "expiredDate",
            "referenceNo",
            "qrUrl",
            "additionalInfo",
        }
    )

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        body = api.body
        return cls(
            **response_fields(api, cls._KNOWN),
            partner_reference_no=body_str(body, "partnerReferenceNo"),
            qr_content=body_str(body, "qrContent"),
            expired_date=parse_time(body.get("expiredDate")),
            reference_no=body_str(body, "referenceNo"),
            qr_url=body_str(body, "qrUrl"),
            additional_info=body_mapping(body, "additionalInfo"),
        )

    def _content(self) -> str:
        if not self.qr_content:
            raise ResponseDecodeError(
                "the QRIS response has no qrContent to render",
                http_status=self.response.http_status,
                raw=self.response.raw,
                external_id=self.response.external_id,
            )
        return self.qr_content

    def to_svg(self, *, scale: int = 4, border: int = 4) -> str:
        """``qr_content`` as an SVG document."""
        from .._qr import qr_svg

        return qr_svg(self._content(), scale=scale, border=border)

    def to_png(self, *, scale: int = 8, border: int = 4) -> bytes:
        """``qr_content`` as PNG bytes."""
        from .._qr import qr_png

        return qr_png(self._content(), scale=scale, border=border)

    def to_terminal(self, *, border: int = 2) -> str:
        """``qr_content`` drawn as Unicode text for a terminal."""
        from .._qr import qr_terminal

        return qr_terminal(self._content(), border=border)


@attrs.frozen(kw_only=True, slots=True)
class QrisQueryRequest:
    """Body of ``POST /v1.0/qr/qr-mpm-query``: keyed on your ``partnerReferenceNo``."""

    original_partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    channel: Channel = attrs.field(default=Channel.BNC_QRIS, converter=to_channel)
    original_reference_no: str | None = attrs.field(
        default=None, validator=optional_text_field(64, kind="reference")
    )
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_additional_info, validator=reserved_keys("channel")
    )

    def to_wire(self) -> dict[str, Any]:
        return status_query_body(self, original_reference_no=self.original_reference_no)


@attrs.frozen(kw_only=True, slots=True)
class QrisQueryResponse(TransactionStatusResponse):
    """QRIS status: ``original_reference_no`` is Ayolinx's transaction id (first seen here)."""


@attrs.frozen(kw_only=True, slots=True)
class QrisCancelRequest:
    """Body of ``POST /v1.0/qr/qr-mpm-cancel``: voids an **unpaid** QR (there is no refund API).

    ``original_reference_no`` and ``reason`` (≤ 256) are SNAP optionals.
    """

    original_partner_reference_no: str = attrs.field(validator=text_field(64, kind="reference"))
    channel: Channel = attrs.field(default=Channel.BNC_QRIS, converter=to_channel)
    original_reference_no: str | None = attrs.field(
        default=None, validator=optional_text_field(64, kind="reference")
    )
    reason: str | None = attrs.field(default=None, validator=optional_text_field(256))
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_additional_info, validator=reserved_keys("channel")
    )

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"originalPartnerReferenceNo": self.original_partner_reference_no}
        put(body, "originalReferenceNo", self.original_reference_no)
        put(body, "reason", self.reason)
        body["additionalInfo"] = channel_info(self.channel, self.additional_info)
        return body


@attrs.frozen(kw_only=True, slots=True)
class QrisCancelResponse(ResponseModel):
    """Cancel answer (schema not published; SNAP shape, spec §11.3). Expect ``2007700``."""

    original_partner_reference_no: str | None = None
    original_reference_no: str | None = None
    cancel_time: datetime | None = None
    transaction_date: datetime | None = None
    additional_info: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "originalPartnerReferenceNo",
            "originalReferenceNo",
            "cancelTime",
            "transactionDate",
            "additionalInfo",
        }
    )

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        body = api.body
        return cls(
            **response_fields(api, cls._KNOWN),
            original_partner_reference_no=body_str(body, "originalPartnerReferenceNo"),
            original_reference_no=body_str(body, "originalReferenceNo"),
            cancel_time=parse_time(body.get("cancelTime")),
            transaction_date=parse_time(body.get("transactionDate")),
            additional_info=body_mapping(body, "additionalInfo"),
        )

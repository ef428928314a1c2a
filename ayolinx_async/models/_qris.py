"""QRIS (MPM, acquirer ``BNC_QRIS``): generate, query and cancel (docs/protocol.md §17.1-§17.3).

The generate response carries **no Ayolinx reference** (docs/protocol.md §17.1): your
``partner_reference_no`` is the key for query, cancel and callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import attrs

from .._errors import ResponseDecodeError
from ._checks import (
    UrlParam,
    instance_field,
    optional_text_field,
    render_url_params,
    text_field,
    to_channel,
    to_url_params,
)
from ._common import ResponseModel, TransactionStatusResponse
from ._enums import Channel
from ._fields import wire
from ._money import Amount, check_idr, render_amount, to_request_amount
from ._parsers import parse_mapping, parse_str
from ._requests import CHANNEL_WIRE, ReferencedStatusQuery, WireRequest, info_last
from ._times import optional_aware_datetime, parse_time, render_time

if TYPE_CHECKING:
    from .._response import APIResponse

__all__ = [
    "QrisCancelRequest",
    "QrisCancelResponse",
    "QrisGenerateRequest",
    "QrisGenerateResponse",
    "QrisQueryRequest",
    "QrisQueryResponse",
]


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class QrisGenerateRequest(WireRequest):
    """Body of ``POST /v1.0/qr/qr-mpm-generate``.

    ``valid_up_to`` is sent as ISO-8601 ``+07:00`` (accepted by the sandbox,
    docs/protocol.md §17.1); ``sub_merchant_id`` goes into ``additionalInfo`` as integrations do;
    ``merchant_id``, ``store_id``, ``terminal_id`` and ``validity_period`` are SNAP optionals
    ([S], unconfirmed).
    """

    partner_reference_no: str = attrs.field(
        validator=text_field(64, kind="reference"), metadata=wire("partnerReferenceNo")
    )
    amount: Amount = attrs.field(
        converter=to_request_amount, metadata=wire("amount", render=render_amount)
    )
    merchant_id: str | None = attrs.field(
        default=None, validator=optional_text_field(64), metadata=wire("merchantId")
    )
    store_id: str | None = attrs.field(
        default=None, validator=optional_text_field(64), metadata=wire("storeId")
    )
    terminal_id: str | None = attrs.field(
        default=None, validator=optional_text_field(16), metadata=wire("terminalId")
    )
    channel: Channel = attrs.field(
        default=Channel.BNC_QRIS, converter=to_channel, metadata=CHANNEL_WIRE
    )
    sub_merchant_id: str | None = attrs.field(
        default=None,
        validator=optional_text_field(32),
        metadata=wire("additionalInfo.subMerchantId"),
    )
    url_params: tuple[UrlParam, ...] = attrs.field(
        default=(), converter=to_url_params, metadata=wire("urlParams", render=render_url_params)
    )
    valid_up_to: datetime | None = attrs.field(
        default=None,
        validator=optional_aware_datetime,
        metadata=wire("validUpTo", render=render_time),
    )
    validity_period: datetime | None = attrs.field(
        default=None,
        validator=optional_aware_datetime,
        metadata=wire("validityPeriod", render=render_time),
    )
    allow_non_idr: bool = attrs.field(default=False, validator=instance_field(bool))

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)


@attrs.frozen(kw_only=True, slots=True)
class QrisGenerateResponse(ResponseModel):
    """A generated dynamic QR. Render ``qr_content`` with :meth:`to_svg` / :meth:`to_png` /
    :meth:`to_terminal` (``[qr]`` extra).

    ``expired_date`` is documented as "seconds timestamp" but may be ISO; both are parsed and
    the original stays in ``body``. ``reference_no`` and ``qr_url`` are seen only sometimes.
    """

    partner_reference_no: str | None = attrs.field(
        default=None, metadata=wire("partnerReferenceNo", parse=parse_str)
    )
    #: Always present: a success without it is refused (see :meth:`from_response`).
    qr_content: str = attrs.field(metadata=wire("qrContent", parse=parse_str))
    expired_date: datetime | None = attrs.field(
        default=None, metadata=wire("expiredDate", parse=parse_time)
    )
    reference_no: str | None = attrs.field(
        default=None, metadata=wire("referenceNo", parse=parse_str)
    )
    qr_url: str | None = attrs.field(default=None, metadata=wire("qrUrl", parse=parse_str))
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, repr=False, metadata=wire("additionalInfo", parse=parse_mapping)
    )

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        """The typed QR; a "success" without ``qrContent`` is a :class:`ResponseDecodeError`
        (on ``generate`` the QR may exist: the client then raises ``OutcomeUnknownError``)."""
        if not parse_str(api.body.get("qrContent")):
            raise ResponseDecodeError(
                "the QRIS generate answer has no qrContent",
                http_status=api.http_status,
                raw=api.raw,
                external_id=api.external_id,
                path=api.path,
            )
        return super().from_response(api)

    def _content(self) -> str:
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


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class QrisQueryRequest(ReferencedStatusQuery):
    """Body of ``POST /v1.0/qr/qr-mpm-query``: keyed on your ``partnerReferenceNo``."""

    channel: Channel = attrs.field(
        default=Channel.BNC_QRIS, converter=to_channel, metadata=CHANNEL_WIRE
    )


@attrs.frozen(kw_only=True, slots=True)
class QrisQueryResponse(TransactionStatusResponse):
    """QRIS status: ``original_reference_no`` is Ayolinx's transaction id (first seen here)."""


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class QrisCancelRequest(ReferencedStatusQuery):
    """Body of ``POST /v1.0/qr/qr-mpm-cancel``: voids an **unpaid** QR (there is no refund API).

    ``original_reference_no`` and ``reason`` (≤ 256) are SNAP optionals.
    """

    reason: str | None = attrs.field(
        default=None, validator=optional_text_field(256), metadata=wire("reason")
    )
    channel: Channel = attrs.field(
        default=Channel.BNC_QRIS, converter=to_channel, metadata=CHANNEL_WIRE
    )


@attrs.frozen(kw_only=True, slots=True)
class QrisCancelResponse(ResponseModel):
    """Cancel answer (schema not published; SNAP shape, docs/protocol.md §17.3).
    Expect ``2007700``."""

    original_partner_reference_no: str | None = attrs.field(
        default=None, metadata=wire("originalPartnerReferenceNo", parse=parse_str)
    )
    original_reference_no: str | None = attrs.field(
        default=None, metadata=wire("originalReferenceNo", parse=parse_str)
    )
    cancel_time: datetime | None = attrs.field(
        default=None, metadata=wire("cancelTime", parse=parse_time)
    )
    transaction_date: datetime | None = attrs.field(
        default=None, metadata=wire("transactionDate", parse=parse_time)
    )
    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict, repr=False, metadata=wire("additionalInfo", parse=parse_mapping)
    )

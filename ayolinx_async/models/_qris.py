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
from ._checks import UrlParam, render_url_params, text_field, to_channel, to_url_params
from ._common import ResponseModel, TransactionStatusResponse
from ._enums import Channel
from ._fields import wire
from ._kit import optional_text, optional_time, received, received_info, setting
from ._money import Amount, check_idr, render_amount, to_request_amount
from ._parsers import parse_str
from ._requests import CHANNEL_WIRE, ReferencedStatusQuery, WireRequest, info_last
from ._times import parse_time

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
    merchant_id: str | None = optional_text("merchantId", 64)
    store_id: str | None = optional_text("storeId", 64)
    terminal_id: str | None = optional_text("terminalId", 16)
    channel: Channel = attrs.field(
        default=Channel.BNC_QRIS, converter=to_channel, metadata=CHANNEL_WIRE
    )
    sub_merchant_id: str | None = optional_text("additionalInfo.subMerchantId", 32)
    url_params: tuple[UrlParam, ...] = attrs.field(
        default=(), converter=to_url_params, metadata=wire("urlParams", render=render_url_params)
    )
    valid_up_to: datetime | None = optional_time("validUpTo")
    validity_period: datetime | None = optional_time("validityPeriod")
    allow_non_idr: bool = setting(False)

    def __attrs_post_init__(self) -> None:
        check_idr(self.amount, field="amount", allow_non_idr=self.allow_non_idr)


@attrs.frozen(kw_only=True, slots=True)
class QrisGenerateResponse(ResponseModel):
    """A generated dynamic QR. Render ``qr_content`` with :meth:`to_svg` / :meth:`to_png` /
    :meth:`to_terminal` (``[qr]`` extra).

    ``expired_date`` is documented as "seconds timestamp" but may be ISO; both are parsed and
    the original stays in ``body``. ``reference_no`` and ``qr_url`` are seen only sometimes.
    """

    partner_reference_no: str | None = received("partnerReferenceNo")
    #: Always present: a success without it is refused (see :meth:`from_response`).
    qr_content: str = attrs.field(metadata=wire("qrContent", parse=parse_str))
    expired_date: datetime | None = received("expiredDate", parse_time)
    reference_no: str | None = received("referenceNo")
    qr_url: str | None = received("qrUrl")
    additional_info: Mapping[str, Any] = received_info()

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

    reason: str | None = optional_text("reason", 256)
    channel: Channel = attrs.field(
        default=Channel.BNC_QRIS, converter=to_channel, metadata=CHANNEL_WIRE
    )


@attrs.frozen(kw_only=True, slots=True)
class QrisCancelResponse(ResponseModel):
    """Cancel answer (schema not published; SNAP shape, docs/protocol.md §17.3).
    Expect ``2007700``."""

    original_partner_reference_no: str | None = received("originalPartnerReferenceNo")
    original_reference_no: str | None = received("originalReferenceNo")
    cancel_time: datetime | None = received("cancelTime", parse_time)
    transaction_date: datetime | None = received("transactionDate", parse_time)
    additional_info: Mapping[str, Any] = received_info()

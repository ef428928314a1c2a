"""Virtual accounts: create and inquire (docs/protocol.md §16, §17.6-§17.7).

Two numbering modes (docs/protocol.md §17.6): Ayolinx generates the number (``virtualAccountNo``
sent empty) or the merchant does (``partnerServiceId + customerNo`` unless given). ``C`` (closed)
bills carry ``totalAmount``; ``O`` (open) ones must not.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Self

import attrs

from .._errors import ValidationError
from ._checks import check_text, instance_field, render_code, text_field, to_channel
from ._common import ResponseModel, TransactionStatusResponse
from ._enums import Channel, _OpenStrEnum
from ._fields import known_names, read_wire, render_wire, wire
from ._kit import optional_text, optional_time, received, received_info, setting
from ._money import Amount, AmountInput, check_idr, coerce_amount, render_amount
from ._parsers import parse_str
from ._requests import CHANNEL_WIRE, StatusQuery, WireRequest, info_last
from ._times import parse_time

__all__ = [
    "PRODUCTION_PARTNER_SERVICE_IDS",
    "SANDBOX_PARTNER_SERVICE_IDS",
    "VirtualAccountCreateRequest",
    "VirtualAccountCreateResponse",
    "VirtualAccountData",
    "VirtualAccountInquiryRequest",
    "VirtualAccountInquiryResponse",
    "VirtualAccountMode",
    "VirtualAccountTrxType",
    "default_partner_service_id",
]

#: Bank prefixes hard-coded by several integrations (docs/protocol.md §16); the "PartnerServiceId
#: description" page was never read, so these are overridable defaults, not facts.
SANDBOX_PARTNER_SERVICE_IDS: Mapping[str, str] = MappingProxyType(
    {
        Channel.VIRTUAL_ACCOUNT_BNI: "98829172",
        Channel.VIRTUAL_ACCOUNT_CIMB: "2056",
        Channel.VIRTUAL_ACCOUNT_MANDIRI: "87319",
        Channel.VIRTUAL_ACCOUNT_BRI: "15574",  # one source says 15573
    }
)
PRODUCTION_PARTNER_SERVICE_IDS: Mapping[str, str] = MappingProxyType(
    {
        Channel.VIRTUAL_ACCOUNT_BNI: "98828222",
        Channel.VIRTUAL_ACCOUNT_CIMB: "2056",
        Channel.VIRTUAL_ACCOUNT_MANDIRI: "87319",
        Channel.VIRTUAL_ACCOUNT_BRI: "15574",
    }
)

_SNAP_PSID_LENGTH = 8  # SNAP: partnerServiceId is 8 characters, left-padded with spaces
_PSID = re.compile(r"^ *[0-9]{1,8}$")
_VA_NUMBER = re.compile(r"^ *[0-9]+$")


def default_partner_service_id(channel: str, *, production: bool) -> str | None:
    """The known ``partnerServiceId`` for a VA channel and environment, or ``None``."""
    table = PRODUCTION_PARTNER_SERVICE_IDS if production else SANDBOX_PARTNER_SERVICE_IDS
    return table.get(channel)


def pad_partner_service_id(value: str) -> str:
    """SNAP form: the digits left-padded with spaces to 8 characters (``"    2056"``)."""
    return value.strip().rjust(_SNAP_PSID_LENGTH)


class VirtualAccountTrxType(_OpenStrEnum):
    """``virtualAccountTrxType``: how the bill amount works (unknown SNAP letters pass through)."""

    CLOSED = "C"
    OPEN = "O"
    PARTIAL = "I"


class VirtualAccountMode(enum.Enum):
    """Who numbers the account (docs/protocol.md §17.6)."""

    AYOLINX_GENERATED = "ayolinx"
    MERCHANT_GENERATED = "merchant"


def _partner_service_id(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_text(value, field=attribute.name, max_length=_SNAP_PSID_LENGTH)
    if not _PSID.match(value):
        raise ValidationError(attribute.name, "must be up to 8 digits (optionally space-padded)")


def _virtual_account_no(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    check_text(value, field=attribute.name, max_length=28)
    if not _VA_NUMBER.match(value):
        raise ValidationError(attribute.name, "must be digits (optionally space-padded)")


def _va_channel(_: Any, attribute: attrs.Attribute[Any], value: Channel) -> None:
    if value.is_known and not value.is_virtual_account:
        raise ValidationError(attribute.name, f"{value} is not a virtual-account channel")


def _trx_type(value: VirtualAccountTrxType | str) -> VirtualAccountTrxType:
    check_text(value, field="trx_type", max_length=1)
    return VirtualAccountTrxType(value)


def _parse_trx_type(value: object) -> VirtualAccountTrxType | None:
    text = parse_str(value)
    return VirtualAccountTrxType(text) if text else None


def _total_amount(value: AmountInput | None) -> Amount | None:
    # Any ISO currency converts; the model checks it against ``allow_non_idr``.
    if value is None:
        return None
    return coerce_amount(value, field="total_amount", allow_non_idr=True)


def _render_partner_service_id(
    model: VirtualAccountCreateRequest, _: attrs.Attribute[Any], __: str
) -> str:
    return model.wire_partner_service_id


def _render_virtual_account_no(
    model: VirtualAccountCreateRequest, _: attrs.Attribute[Any], __: str | None
) -> str:
    return model.wire_virtual_account_no


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class VirtualAccountCreateRequest(WireRequest):
    """Body of ``POST /v1.0/transfer-va/create-va`` (SNAP lengths from docs/protocol.md §17.6).

    ``mode`` defaults to merchant-generated when ``virtual_account_no`` is given, else
    Ayolinx-generated. ``pad_partner_service_id`` sends the SNAP 8-character space-padded
    prefix; integrators send it unpadded and that works (docs/protocol.md §16), so it
    is off by default.
    """

    partner_service_id: str = attrs.field(
        validator=_partner_service_id,
        metadata=wire("partnerServiceId", render=_render_partner_service_id),
    )
    customer_no: str = attrs.field(
        validator=text_field(20, kind="digits"), metadata=wire("customerNo")
    )
    virtual_account_no: str | None = attrs.field(
        default=None,
        validator=_virtual_account_no,
        metadata=wire("virtualAccountNo", render=_render_virtual_account_no),
    )
    virtual_account_name: str = attrs.field(
        validator=text_field(255), metadata=wire("virtualAccountName")
    )
    virtual_account_email: str | None = optional_text("virtualAccountEmail", 255, kind="email")
    virtual_account_phone: str | None = optional_text("virtualAccountPhone", 30, kind="phone")
    trx_id: str = attrs.field(validator=text_field(64, kind="reference"), metadata=wire("trxId"))
    trx_type: VirtualAccountTrxType = attrs.field(
        default=VirtualAccountTrxType.CLOSED,
        converter=_trx_type,
        metadata=wire("virtualAccountTrxType", render=render_code),
    )
    total_amount: Amount | None = attrs.field(
        default=None, converter=_total_amount, metadata=wire("totalAmount", render=render_amount)
    )
    expired_date: datetime | None = optional_time("expiredDate")
    channel: Channel = attrs.field(
        converter=to_channel, validator=_va_channel, metadata=CHANNEL_WIRE
    )
    mode: VirtualAccountMode | None = attrs.field(
        default=None,
        validator=instance_field(VirtualAccountMode, optional=True),
    )
    pad_partner_service_id: bool = setting(False)
    allow_non_idr: bool = setting(False)

    def __attrs_post_init__(self) -> None:
        check_idr(self.total_amount, field="total_amount", allow_non_idr=self.allow_non_idr)
        trx_type = self.trx_type
        if trx_type in (VirtualAccountTrxType.CLOSED, VirtualAccountTrxType.PARTIAL):
            if self.total_amount is None:
                raise ValidationError(
                    "total_amount", f"is required for virtualAccountTrxType {trx_type}"
                )
        elif trx_type is VirtualAccountTrxType.OPEN and self.total_amount is not None:
            raise ValidationError(
                "total_amount", "must not be given for an open-amount (O) virtual account"
            )
        # A composed number always fits: partnerServiceId ≤ 8 + customerNo ≤ 20 = 28 (SNAP).
        if (
            self.effective_mode is VirtualAccountMode.AYOLINX_GENERATED
            and self.virtual_account_no is not None
        ):
            raise ValidationError(
                "virtual_account_no", "must be empty when Ayolinx generates the number"
            )

    @property
    def effective_mode(self) -> VirtualAccountMode:
        """``mode``, or the one implied by whether ``virtual_account_no`` was given."""
        if self.mode is not None:
            return self.mode
        if self.virtual_account_no is not None:
            return VirtualAccountMode.MERCHANT_GENERATED
        return VirtualAccountMode.AYOLINX_GENERATED

    @property
    def wire_partner_service_id(self) -> str:
        if self.pad_partner_service_id:
            return pad_partner_service_id(self.partner_service_id)
        return self.partner_service_id

    @property
    def wire_virtual_account_no(self) -> str:
        """What goes on the wire: ``""`` (Ayolinx numbers it), the given number, or
        ``partnerServiceId + customerNo`` (SNAP rule, docs/protocol.md §16)."""
        if self.effective_mode is VirtualAccountMode.AYOLINX_GENERATED:
            return ""
        if self.virtual_account_no is not None:
            return self.virtual_account_no
        return self.wire_partner_service_id + self.customer_no

    def to_wire(self) -> dict[str, Any]:
        """The request body in SNAP order; see :attr:`wire_virtual_account_no`."""
        return render_wire(self)


@attrs.frozen(kw_only=True, slots=True)
class VirtualAccountData:
    """``virtualAccountData`` of a VA response; ``extra`` keeps fields not named here."""

    partner_service_id: str | None = received("partnerServiceId")
    customer_no: str | None = received("customerNo")
    virtual_account_no: str | None = received("virtualAccountNo")
    virtual_account_name: str | None = received("virtualAccountName")
    virtual_account_email: str | None = received("virtualAccountEmail")
    virtual_account_phone: str | None = received("virtualAccountPhone")
    trx_id: str | None = received("trxId")
    total_amount: Amount | None = received("totalAmount", Amount.from_wire)
    virtual_account_trx_type: VirtualAccountTrxType | None = received(
        "virtualAccountTrxType", _parse_trx_type
    )
    expired_date: datetime | None = received("expiredDate", parse_time)
    additional_info: Mapping[str, Any] = received_info()
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: object) -> Self | None:
        """Parse ``virtualAccountData``; ``None`` when it is absent or not an object."""
        if not isinstance(data, Mapping):
            return None
        known = known_names(cls)
        extra = MappingProxyType({k: v for k, v in data.items() if k not in known})
        return cls(**read_wire(cls, data), extra=extra)


@attrs.frozen(kw_only=True, slots=True)
class VirtualAccountCreateResponse(ResponseModel):
    """A created VA (``2002700``); the number to show the payer is :attr:`virtual_account_no`."""

    virtual_account_data: VirtualAccountData | None = received(
        "virtualAccountData", VirtualAccountData.from_wire
    )

    @property
    def virtual_account_no(self) -> str | None:
        """The account number as Ayolinx returned it (SNAP padding, if any, kept)."""
        data = self.virtual_account_data
        return data.virtual_account_no if data is not None else None

    @property
    def trx_id(self) -> str | None:
        data = self.virtual_account_data
        return data.trx_id if data is not None else None

    @property
    def expired_date(self) -> datetime | None:
        data = self.virtual_account_data
        return data.expired_date if data is not None else None


@attrs.frozen(kw_only=True, slots=True, field_transformer=info_last)
class VirtualAccountInquiryRequest(StatusQuery):
    """Body of ``POST /v1.0/transfer-va/inquiry-va`` (documented example, docs/protocol.md §17.7).

    ``original_partner_reference_no`` is your ``trx_id``; the bank ``channel`` is required.
    """

    channel: Channel = attrs.field(
        converter=to_channel, validator=_va_channel, metadata=CHANNEL_WIRE
    )


@attrs.frozen(kw_only=True, slots=True)
class VirtualAccountInquiryResponse(TransactionStatusResponse):
    """VA status (schema not published, docs/protocol.md §17.7): the status fields plus
    ``virtual_account_data`` when Ayolinx includes it."""

    virtual_account_data: VirtualAccountData | None = received(
        "virtualAccountData", VirtualAccountData.from_wire
    )

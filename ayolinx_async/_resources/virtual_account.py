"""``client.virtual_accounts``: create and inquire bank virtual accounts
(docs/protocol.md §16-§17.7)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._endpoints import Endpoint
from .._errors import ValidationError
from ..models._checks import to_channel
from ..models._common import AmountInput, Channel
from ..models._virtual_account import (
    VirtualAccountCreateRequest,
    VirtualAccountCreateResponse,
    VirtualAccountInquiryRequest,
    VirtualAccountInquiryResponse,
    VirtualAccountMode,
    VirtualAccountTrxType,
    default_partner_service_id,
)
from ..transport._base import Timeout
from ._base import PaymentTrackerLike, Resource, required

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = ["CREATE_PATH", "INQUIRY_PATH", "VirtualAccountsResource"]

#: Kept for code that imported them; the catalogue (``Endpoint``) is the source.
CREATE_PATH = Endpoint.VA_CREATE.path
INQUIRY_PATH = Endpoint.VA_INQUIRY.path


class VirtualAccountsResource(Resource):
    """Bank virtual accounts (BNI, CIMB, Mandiri, BRI …).

    ``partnerServiceId`` comes, in order, from the call's ``partner_service_id``, this
    resource's ``partner_service_ids`` overrides, then the docs/protocol.md §16 table for the
    client's environment (production when ``client.base_url`` is the production host, else sandbox).
    """

    def __init__(
        self,
        client: AyolinxClient,
        *,
        partner_service_ids: Mapping[str, str] | None = None,
        pad_partner_service_id: bool = False,
    ) -> None:
        super().__init__(client)
        self.partner_service_ids: Mapping[str, str] = MappingProxyType(
            dict(partner_service_ids or {})
        )
        self.pad_partner_service_id = pad_partner_service_id

    def partner_service_id_for(self, channel: Channel | str) -> str:
        """The ``partnerServiceId`` used for ``channel`` when a call does not give one."""
        bank = to_channel(channel)
        if bank.is_known and not bank.is_virtual_account:
            raise ValidationError("channel", f"{bank} is not a virtual-account channel")
        code = str(bank)
        value = self.partner_service_ids.get(code) or default_partner_service_id(
            code, production=self.is_production
        )
        if value is None:
            raise ValidationError(
                "partner_service_id", f"no default is known for {code}; pass partner_service_id="
            )
        return value

    async def create(
        self,
        request: VirtualAccountCreateRequest | None = None,
        *,
        channel: Channel | str | None = None,
        trx_id: str | None = None,
        customer_no: str | None = None,
        virtual_account_name: str | None = None,
        total_amount: AmountInput | None = None,
        trx_type: VirtualAccountTrxType | str | None = None,
        virtual_account_no: str | None = None,
        mode: VirtualAccountMode | None = None,
        partner_service_id: str | None = None,
        pad_partner_service_id: bool | None = None,
        virtual_account_email: str | None = None,
        virtual_account_phone: str | None = None,
        expired_date: datetime | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
        track: PaymentTrackerLike | bool | None = None,
    ) -> VirtualAccountCreateResponse:
        """Register a VA bill (money-moving). ``trx_type`` defaults to ``C`` (closed amount,
        needs ``total_amount``); ``O`` (open) must not have one."""
        if request is None and not partner_service_id:
            partner_service_id = self.partner_service_id_for(required("channel", channel))
        return await self._call(
            Endpoint.VA_CREATE,
            VirtualAccountCreateRequest,
            VirtualAccountCreateResponse,
            locals(),
            pad_partner_service_id=self.pad_partner_service_id,
        )

    async def inquire(
        self,
        request: VirtualAccountInquiryRequest | None = None,
        *,
        original_partner_reference_no: str | None = None,
        channel: Channel | str | None = None,
        additional_info: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> VirtualAccountInquiryResponse:
        """Read a VA bill's status; ``original_partner_reference_no`` is your ``trx_id``."""
        return await self._call(
            Endpoint.VA_INQUIRY,
            VirtualAccountInquiryRequest,
            VirtualAccountInquiryResponse,
            locals(),
        )

"""Typed resource groups (``client.qris``, ``client.ewallet`` …)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ewallet import EwalletResource
from .payment_link import PaymentLinksResource
from .qris import QrisResource
from .retail import RetailResource
from .virtual_account import VirtualAccountsResource

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = [
    "EwalletResource",
    "PaymentLinksResource",
    "QrisResource",
    "RetailResource",
    "VirtualAccountsResource",
    "attach_resources",
]


def attach_resources(client: AyolinxClient) -> None:
    """Bind every resource group to ``client`` (called by the client and its views)."""
    client.qris = QrisResource(client)
    client.ewallet = EwalletResource(client)
    client.virtual_accounts = VirtualAccountsResource(client)
    client.retail = RetailResource(client)
    client.payment_links = PaymentLinksResource(client)

"""Typed resource groups (``client.qris``, ``client.ewallet`` …)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import AyolinxClient


def attach_resources(client: AyolinxClient) -> None:
    """Bind every resource group to ``client`` (called by the client and its views)."""

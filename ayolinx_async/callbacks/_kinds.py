"""Which product a notify belongs to: a payment link by its ``plh``, else the route's hint, else
the channel code or ``callbackType``."""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Any

from ..models._parsers import parse_str

__all__ = ["NotificationKind", "classify_notification", "kind_from_channel"]


class NotificationKind(enum.StrEnum):
    """Which product a notify belongs to (decides the event class)."""

    QRIS = "qris"
    EWALLET = "ewallet"
    VIRTUAL_ACCOUNT = "virtual_account"
    RETAIL = "retail"
    PAYMENT_LINK = "payment_link"
    UNKNOWN = "unknown"


@functools.lru_cache(maxsize=256)
def kind_from_channel(channel: str | None, callback_type: str | None) -> NotificationKind:
    """The product a channel code or ``callbackType`` names; cached, as a few channels recur."""
    ch = (channel or "").strip().upper()
    ct = (callback_type or "").strip().upper()
    if ch.startswith("VIRTUAL_ACCOUNT") or ct in {"VA", "VIRTUAL_ACCOUNT"}:
        return NotificationKind.VIRTUAL_ACCOUNT
    if ch.startswith("RETAIL_") or ct == "RETAIL":
        return NotificationKind.RETAIL
    if ch.startswith("EMONEY_") or ct in {"EWALLET", "EMONEY", "DANA"}:
        return NotificationKind.EWALLET
    if "QRIS" in ch or ct == "QRIS":
        return NotificationKind.QRIS
    return NotificationKind.UNKNOWN


def classify_notification(
    body: Mapping[str, Any], hint: NotificationKind | None = None
) -> NotificationKind:
    """Pick the product: ``additionalInfo.plh`` means a payment link; else the route's ``hint``;
    else the channel code / ``callbackType``; else UNKNOWN (still delivered)."""
    info = body.get("additionalInfo")
    # ``type(...) is dict`` first: decoded JSON objects are dicts, and the ABC check is slow.
    if type(info) is not dict and not isinstance(info, Mapping):
        info = {}
    plh = info.get("plh")
    if plh is not None and (plh if type(plh) is str else parse_str(plh)):
        return NotificationKind.PAYMENT_LINK
    if hint is not None and hint is not NotificationKind.UNKNOWN:
        return hint
    # parse_str, skipping its type checks for the usual text or absent values.
    channel = info.get("channel")
    if channel is not None and type(channel) is not str:
        channel = parse_str(channel)
    callback_type = body.get("callbackType")
    if callback_type is not None and type(callback_type) is not str:
        callback_type = parse_str(callback_type)
    return kind_from_channel(channel, callback_type)

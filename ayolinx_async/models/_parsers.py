"""Readers for values Ayolinx sends, shared by response models and callback events: total
(an unreadable value is ``None``, never an exception), so one spelling rule holds everywhere."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ._enums import Channel, TransactionStatus
from ._fields import exact_strings

__all__ = ["parse_channel", "parse_mapping", "parse_status", "parse_str"]


@exact_strings()
def parse_str(value: object) -> str | None:
    """A string field as sent (finite numbers are turned into text; anything else, and
    non-finite or absurdly long numbers, are ``None``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # str() of an int past 4300 digits raises (CPython's conversion limit).
        return str(value) if value.bit_length() <= 10_000 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    return None


def parse_mapping(value: object) -> Mapping[str, Any]:
    """A nested object as a read-only mapping (empty when absent or not an object)."""
    if type(value) is dict or isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return MappingProxyType({})


@exact_strings(lambda: {status.value: status for status in TransactionStatus})
def parse_status(value: object) -> TransactionStatus | None:
    """``latestTransactionStatus`` as an open enum; numbers are zero-padded (``0`` → ``"00"``);
    other types are ``None``."""
    if type(value) is str:
        known = TransactionStatus.known(value)
        if known is not None:
            return known
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 60:
            return None
        value = f"{value:02d}"
    if not isinstance(value, str) or not value.strip():
        return None
    return TransactionStatus(value.strip())


@exact_strings(lambda: {channel.value: channel for channel in Channel})
def parse_channel(value: object) -> Channel | None:
    """A channel code as an open enum; ``None`` when absent or blank."""
    if type(value) is str:
        known = Channel.known(value)
        if known is not None:
            return known
    if not isinstance(value, str) or not value.strip():
        return None
    return Channel(value.strip())

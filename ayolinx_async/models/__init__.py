"""Typed request and response models."""

from .common import (
    Amount,
    Channel,
    TransactionStatus,
    UrlParam,
    UrlParamType,
    format_jakarta,
    parse_amount,
    parse_time,
    to_amount,
)

__all__ = [
    "Amount",
    "Channel",
    "TransactionStatus",
    "UrlParam",
    "UrlParamType",
    "format_jakarta",
    "parse_amount",
    "parse_time",
    "to_amount",
]

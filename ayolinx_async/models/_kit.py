"""Fields the product models declare alike, each in one call with its wire key: a request's
optional string or time, a model setting that is never sent (``allow_non_idr`` …), and a
response field read with its parser.

Fields with a converter (``channel``, ``amount``, ``url_params`` …) or without a default stay
``attrs.field(...)`` calls in the class: mypy's attrs plugin reads a converter's input type and
a field's mandatory-ness only from such a call.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._checks import TextKind, instance_field, optional_text_field
from ._fields import Parse, Render, wire
from ._parsers import parse_mapping, parse_str
from ._times import optional_aware_datetime, render_time

__all__ = ["optional_text", "optional_time", "received", "received_info", "setting"]


def optional_text(key: str, max_length: int, *, kind: TextKind = "text") -> Any:
    """An optional string sent as ``key``: at most ``max_length`` characters of ``kind``,
    ``None`` (the default) is not sent."""
    return attrs.field(
        default=None, validator=optional_text_field(max_length, kind=kind), metadata=wire(key)
    )


def optional_time(key: str, *, render: Render = render_time) -> Any:
    """An optional aware datetime sent as ``key`` (``+07:00`` unless ``render`` says otherwise);
    a naive one is refused, ``None`` (the default) is not sent."""
    return attrs.field(
        default=None, validator=optional_aware_datetime, metadata=wire(key, render=render)
    )


def setting(default: object) -> Any:
    """A model setting that shapes the body but is not sent: ``default``, or another value of
    its type (anything else is a ``ValidationError`` naming the field)."""
    return attrs.field(default=default, validator=instance_field(type(default)))


def received(key: str, parse: Parse = parse_str) -> Any:
    """A response field read from ``key`` with ``parse`` (total: a missing or unusable value
    is ``None``, the default)."""
    return attrs.field(default=None, metadata=wire(key, parse=parse))


def received_info() -> Any:
    """A response's ``additionalInfo`` object, read-only and empty when absent (kept out of
    ``repr``: it can be long)."""
    return attrs.field(
        factory=dict, repr=False, metadata=wire("additionalInfo", parse=parse_mapping)
    )

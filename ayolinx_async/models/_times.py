"""Times on the wire: rendered in Jakarta time, read from ISO-8601 or Unix seconds."""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .._errors import ValidationError
from .._wire import JAKARTA
from ._enums import ValidUpToFormat

__all__ = [
    "aware_datetime",
    "format_jakarta",
    "optional_aware_datetime",
    "parse_time",
    "render_time",
    "render_valid_up_to",
    "render_valid_up_to_field",
]


def format_jakarta(moment: datetime, *, field: str) -> str:
    """Render an aware datetime as ``yyyy-MM-ddTHH:mm:ss+07:00``; naive ones are refused."""
    if not isinstance(moment, datetime):
        raise ValidationError(field, "must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def parse_time(value: object) -> datetime | None:
    """Parse a response time: ISO-8601 with offset, or Unix seconds (number or digit string).

    Total: anything else (``"²"``, ``NaN``, ``1E+999999``, objects) is ``None``; the raw value
    stays in the model's ``raw`` body.
    """
    if type(value) is str:
        if len(value) == 25 and value[19] in "+-" and value[10] == "T":
            # The shape Ayolinx sends (``2024-09-18T13:40:00+07:00``), parsed directly (the C
            # parser takes ASCII digits only); any surprise takes the careful path below.
            try:
                parsed = datetime.fromisoformat(value)
            except (ValueError, OverflowError):
                pass
            else:
                if parsed.tzinfo is not None:
                    return parsed
        return _text_time(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _from_epoch(float(value)) if value.bit_length() <= 60 else None
    if isinstance(value, Decimal):
        finite = value.is_finite() and (not value or value.adjusted() < 20)
        return _from_epoch(float(value)) if finite else None
    if isinstance(value, float):
        return _from_epoch(value)
    return _text_time(value) if isinstance(value, str) else None


def _text_time(value: str) -> datetime | None:
    """A time sent as text: ISO-8601 (a missing offset means Jakarta) or Unix seconds."""
    text = value.strip()
    # ASCII only: '²'.isdigit() is True but float('²') raises.
    if not text or len(text) > 64 or not text.isascii():
        return None
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JAKARTA)


_EPOCH_TEXT = re.compile(r"[0-9]{1,18}")


def _from_epoch(seconds: float) -> datetime | None:
    """Unix seconds (or milliseconds, if implausibly large) in Jakarta time, the zone Ayolinx
    documents and answers in; ``None`` if out of range."""
    if not math.isfinite(seconds):
        return None
    if seconds > 1e11:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, JAKARTA)
    except (OverflowError, OSError, ValueError):
        return None


def aware_datetime(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: an aware ``datetime`` (naive ones are ambiguous and refused)."""
    format_jakarta(value, field=attribute.name)


def optional_aware_datetime(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: ``None`` or an aware ``datetime``."""
    if value is not None:
        aware_datetime(instance, attribute, value)


def render_valid_up_to(moment: datetime, style: ValidUpToFormat, *, field: str) -> str:
    """Render an aware expiry in ``style``; naive datetimes are refused naming ``field``."""
    text = format_jakarta(moment, field=field)
    if style is ValidUpToFormat.ISO_8601:
        return text
    return str(int(moment.timestamp()))


def render_time(_: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> str | None:
    """Wire renderer for an aware datetime field, in Jakarta time (``None`` is not sent)."""
    return format_jakarta(value, field=attribute.name) if value is not None else None


def render_valid_up_to_field(
    model: Any, attribute: attrs.Attribute[Any], value: datetime | None
) -> str | None:
    """Wire renderer for ``validUpTo`` in the form the model's ``valid_up_to_format`` names."""
    if value is None:
        return None
    return render_valid_up_to(value, model.valid_up_to_format, field=attribute.name)

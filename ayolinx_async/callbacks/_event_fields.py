"""Callback field rules, built on the response models' parsers: what deduplication and the paid
amount need is mandatory and strict (a 400 naming the field), everything else is read leniently
by the same parsers the response models use."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NoReturn

from .._errors import CallbackRejected
from .._frozen import construction
from ..models._enums import TransactionStatus
from ..models._fields import (
    Unreadable,
    compile_function,
    exact_strings,
    keyword_arguments,
    read_wire,
    reader_fields,
    reader_lines,
)
from ..models._money import Amount, plain_idr
from ..models._parsers import parse_status, parse_str

__all__ = [
    "Required",
    "as_dict",
    "event_builder",
    "event_status",
    "identifier",
    "mandatory",
    "optional_amount",
    "paid_amount",
    "read_event_fields",
    "text_or_empty",
]

_MAX_INTEGER_DIGITS = 13  # SNAP amounts are 16,2


def identifier(value: object) -> str | None:
    """An identifier as sent, ``None`` if absent or blank; :class:`Unreadable` if it is not
    printable ASCII."""
    text = value if type(value) is str else parse_str(value)
    if not text or text.isspace():
        return None
    # ASCII and printable: exactly the characters 0x20-0x7e.
    if not (text.isascii() and text.isprintable()):
        raise Unreadable()
    return text


@exact_strings(lambda: {status.value: status for status in TransactionStatus})
def event_status(value: object) -> TransactionStatus | None:
    """``latestTransactionStatus`` read as in responses (numbers zero-padded), printable only."""
    if type(value) is str:
        # A documented code is printable ASCII already: one dict lookup, as parse_status does.
        known = TransactionStatus.known(value)
        if known is not None:
            return known
    text = identifier(value)
    if text is None:
        return None
    return parse_status(value) or TransactionStatus(text.strip())


def _callback_amount(data: object) -> Amount | None:
    """A wire amount as responses read it, narrowed to what a payment can be: not negative and
    at most 13 integer digits (SNAP 16,2)."""
    amount = Amount.from_wire(data)
    if amount is None or amount.value.is_signed():
        return None
    value = amount.value
    return amount if not value or value.adjusted() < _MAX_INTEGER_DIGITS else None


#: The usual paid amount, ``{"value": "10000.00", "currency": "IDR"}``, in the one spelling
#: that :func:`_callback_amount` accepts unchanged: at most 13 integer digits, 2 decimals.
_PLAIN_PAID = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,2})?")


def paid_amount(data: object) -> Amount | None:
    """A mandatory amount: ``None`` when absent, :class:`Unreadable` naming ``.value`` when
    present but unusable (never guess what was paid)."""
    if type(data) is dict:
        # Every callback's amount: read here directly, as the general path would (issue 15).
        text = data.get("value")
        if type(text) is str and data.get("currency") == "IDR" and _PLAIN_PAID.fullmatch(text):
            # Shared with responses: an Amount is immutable, and callbacks repeat price points.
            return plain_idr(text) or Amount(value=Decimal(text), currency="IDR")
    return _paid_amount(data)


def _paid_amount(data: object) -> Amount | None:
    """:func:`paid_amount` read the general way: any mapping, any spelling."""
    if data is None:
        return None
    amount = _callback_amount(data)
    if amount is None:
        raise Unreadable("bad_amount", suffix=".value")
    return amount


def optional_amount(data: object) -> Amount | None:
    """An informative amount (a fee): ``None`` when absent or unusable."""
    return _callback_amount(data) if data is not None else None


def as_dict(value: object) -> dict[str, Any]:
    """A nested object as a plain dict (empty when absent or not an object)."""
    # ``type(...) is dict`` first: decoded JSON objects are dicts, and the ABC check is slow.
    return dict(value) if type(value) is dict or isinstance(value, Mapping) else {}


def text_or_empty(value: object) -> str:
    """A string field where absent means ``""``."""
    return parse_str(value) or ""


def _bad_field(name: str, reason: str = "bad_field") -> CallbackRejected:
    return CallbackRejected(400, "01", f"Invalid Field Format {name}", reason=reason)


def mandatory(body: Mapping[str, Any], *names: str) -> str:
    """The first non-empty of ``names``; 400xx02 naming the first one if none is present,
    400xx01 if any that is present is not printable ASCII."""
    found = []
    for name in names:
        try:
            text = identifier(body.get(name))
        except Unreadable:
            raise _bad_field(name) from None
        if text is not None:
            found.append(text)
    if not found:
        raise CallbackRejected(
            400, "02", f"Invalid Mandatory Field {names[0]}", reason="missing_field"
        )
    return found[0]


#: Mandatory groups: in each, at least one ``(attribute, wire name)`` must be set.
Required = tuple[tuple[tuple[str, str], ...], ...]


def read_event_fields(cls: type, body: Mapping[str, Any], required: Required) -> dict[str, Any]:
    """The declared wire fields of an event class read from ``body``: a strict field's refusal
    is a 400xx01 naming it, a ``required`` group with nothing set a 400xx02. The groups are
    checked from the values read, and their errors come first, as :func:`mandatory` before
    reading would have it."""
    try:
        values = read_wire(cls, body)
    except Exception as exc:
        _refuse(body, required, exc)
    for group in required:
        for attribute, _ in group:
            if values[attribute] is not None:
                break
        else:
            mandatory(body, *(name for _, name in group))  # all absent: its 400xx02
    return values


def _refuse(body: Mapping[str, Any], required: Required, exc: Exception) -> NoReturn:
    """A read that failed: a missing mandatory group's 400xx02 first, else the strict field's
    400xx01 (anything else is re-raised)."""
    for group in required:
        mandatory(body, *(name for _, name in group))
    if isinstance(exc, Unreadable):
        raise _bad_field(f"{exc.field}{exc.suffix}", exc.reason) from None
    raise exc


#: ``build(body, raw, path, timestamp, kept)``: an event from a decoded JSON object.
EventBuilder = Callable[[dict[str, Any], bytes, str, str, Mapping[str, Any]], Any]
_BUILDERS: dict[tuple[type, Required], EventBuilder] = {}
#: What every event takes from its envelope (the builder's parameters), not a wire field.
_ENVELOPE = {
    "extra": "{key: value for key, value in body.items() if key not in known_keys}",
    "body": "kept_",
    "raw": "raw_",
    "path": "path_",
    "timestamp": "timestamp_",
}


def event_builder(cls: type, required: Required, known_keys: frozenset[str]) -> EventBuilder:
    """Per event class and mandatory groups, once: :func:`read_event_fields` and the event's
    constructor as one function (every callback pays for it): the fields read into locals,
    the groups checked from them in order, ``extra`` (top-level keys outside ``known_keys``)
    and the envelope passed straight to ``cls``. ``kept`` is the body the event keeps."""
    build = _BUILDERS.get((cls, required))
    if build is None:
        lines, namespace, values = reader_lines(reader_fields(cls))
        namespace.update(
            cls=cls, required=required, known_keys=known_keys, refuse=_refuse, mandatory=mandatory
        )
        names = dict(values)
        checks = []
        for group in required:
            absent = " and ".join(f"{names[attribute]} is None" for attribute, _ in group)
            wire_names = ", ".join(repr(name) for _, name in group)
            checks.append(f"    if {absent}:\n        mandatory(body, {wire_names})")
        built, more = construction(cls, keyword_arguments(values, _ENVELOPE), "event")
        namespace.update(more)
        source = [
            # Parameter names the reader's locals (``raw``, ``get``, ``v0`` …) cannot shadow.
            "def build(body, raw_, path_, timestamp_, kept_):",
            "    try:",
            *("    " + line for line in lines),
            "    except Exception as exc:",
            "        refuse(body, required, exc)",
            *checks,
            *("    " + line for line in built),
            "    return event",
        ]
        build = _BUILDERS[(cls, required)] = compile_function(source, namespace)
    return build

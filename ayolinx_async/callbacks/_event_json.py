"""Strict JSON for callbacks: a notify body is decoded from the exact verified bytes with
fractions as ``Decimal`` and every number bounded, so nothing absurd reaches a parser."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, NoReturn

from .._errors import CallbackRejected
from .._wire import JsonScan, scan_object

__all__ = ["decode_json_object"]


#: No payment field needs a longer number or a larger exponent; bounding both before anything
#: converts them keeps ``1E+999999`` from becoming a million-digit integer on the event loop.
_MAX_NUMBER_CHARS = 64
_MAX_EXPONENT = 64
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _BadNumber(ValueError):
    """A JSON number no payment carries: NaN, Infinity, or absurdly long or large."""


def _refuse_constant(name: str) -> NoReturn:
    raise _BadNumber(name)


def _json_float(text: str) -> Decimal:
    """A JSON fraction as an exact ``Decimal``, refused when absurdly long or large."""
    if len(text) > _MAX_NUMBER_CHARS:
        raise _BadNumber(text[:16])
    value = Decimal(text)
    if abs(value.adjusted()) > _MAX_EXPONENT:
        raise _BadNumber(text[:16])
    return value


def _json_int(text: str) -> int:
    """A JSON integer, refused when longer than any payment field needs."""
    if len(text) > _MAX_NUMBER_CHARS:
        raise _BadNumber(text[:16])
    return int(text)


def _has_lone_surrogate(value: object) -> bool:
    """True if any string (key or value) holds a lone UTF-16 surrogate: not encodable text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _bad_body(detail: str) -> CallbackRejected:
    return CallbackRejected(400, "01", f"Invalid Field Format body {detail}", reason="bad_body")


#: One decoder for every body (its settings never change): ``json.loads`` with these keywords
#: would build a decoder and its scanner per callback.
_DECODER = json.JSONDecoder(
    parse_float=_json_float, parse_int=_json_int, parse_constant=_refuse_constant
)


#: The decoder's own scanner, for :func:`~ayolinx_async._wire.scan_object`.
_SCAN: JsonScan = _DECODER.scan_once  # type: ignore[attr-defined]


def _loads(body: bytes) -> Any:
    """``json.loads`` with the strict number rules, decoding bytes as ``json.loads`` does."""
    if type(body) is not bytes:
        return json.loads(
            body, parse_float=_json_float, parse_int=_json_int, parse_constant=_refuse_constant
        )
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object from raw bytes; fractions become ``Decimal``. 400xx01 for anything
    else, including NaN/Infinity, numbers beyond 64 characters or exponent 64, and lone
    surrogates (an answer echoing them could not be encoded)."""
    try:
        value = scan_object(body, _SCAN)
        if value is None:
            value = _loads(body)
    except _BadNumber:
        raise _bad_body("has a non-finite or out-of-range number") from None
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _bad_body("is not JSON") from None
    if not isinstance(value, dict):
        raise _bad_body("is not a JSON object")
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        raise _bad_body("has an invalid unicode escape")
    return value

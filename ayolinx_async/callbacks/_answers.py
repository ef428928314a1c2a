"""The handler's answers: strict JSON with a SNAP code (docs/protocol.md §18.1), built before any
listener runs so a body that cannot be echoed is refused instead of acknowledged badly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from .._errors import CallbackRejected

if TYPE_CHECKING:
    from ._events import VaPaymentRequest

__all__ = [
    "NOTIFY_ACK",
    "NOTIFY_ACK_PAIRS",
    "CallbackResponse",
    "error_response",
    "header_pairs",
    "json_bytes",
    "json_response",
    "va_answer",
]

_JSON_HEADERS: Mapping[str, str] = {"content-type": "application/json"}
_JSON_PAIRS = ((b"content-type", b"application/json"),)


class CallbackResponse(NamedTuple):
    """What to answer: unpacks as ``status, headers, body`` (body is JSON bytes)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        # The token endpoint's answer carries the merchant-issued token: never shown.
        return f"CallbackResponse(status={self.status}, body=<{len(self.body)} bytes>)"


#: Integral Decimals up to this many digits are echoed as JSON integers (``11500.00`` as
#: ``11500``, as before); anything larger would be a number no payment carries.
_MAX_ECHO_DIGITS = 30


def _json_default(value: object) -> object:
    """JSON for the Decimals of a decoded body; NaN, infinities and absurd exponents refused."""
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > _MAX_ECHO_DIGITS:
            raise ValueError("not a finite JSON number")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_bytes(payload: Mapping[str, Any]) -> bytes:
    """Strict JSON as UTF-8: ``ValueError`` for NaN/Infinity or a lone surrogate, never a body
    a strict parser would refuse."""
    text = json.dumps(
        payload,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    return text.encode("utf-8")


def header_pairs(response: CallbackResponse) -> list[tuple[bytes, bytes]]:
    """The answer's headers as ASGI byte pairs, ``content-length`` last."""
    if response is NOTIFY_ACK:  # most answers: the pairs were built once, with the answer
        return list(NOTIFY_ACK_PAIRS)
    if response.headers is _JSON_HEADERS:  # every answer but a 405's
        pairs = list(_JSON_PAIRS)
    else:
        pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    pairs.append((b"content-length", str(len(response.body)).encode("ascii")))
    return pairs


def json_response(status: int, payload: Mapping[str, Any]) -> CallbackResponse:
    return CallbackResponse(status, _JSON_HEADERS, json_bytes(payload))


def error_response(status: int, code: str, message: str) -> CallbackResponse:
    return json_response(status, {"responseCode": code, "responseMessage": message})


NOTIFY_ACK = error_response(200, "2005600", "Successful")
#: The acknowledgement's ASGI header pairs (copy before handing them to a server).
NOTIFY_ACK_PAIRS = (*_JSON_PAIRS, (b"content-length", str(len(NOTIFY_ACK.body)).encode("ascii")))


def va_answer(event: VaPaymentRequest) -> CallbackResponse:
    """The ``2002500`` answer with the ``virtualAccountData`` echo, built (and so validated)
    before any listener runs: a body that cannot be echoed as strict JSON is a 400, never a
    listener run followed by an invalid or failing answer."""
    payload = {
        "responseCode": "2002500",
        "responseMessage": "Successful",
        "virtualAccountData": event.virtual_account_data(),
    }
    try:
        return json_response(200, payload)
    except (ValueError, TypeError, RecursionError):
        raise CallbackRejected(
            400, "01", "Invalid Field Format virtualAccountData", reason="bad_body"
        ) from None

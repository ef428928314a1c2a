"""The response side every product shares: :class:`ResponseModel` (read from the fields'
wire declarations) and the status-query shape :class:`TransactionStatusResponse`.

The value types live in ``_enums``, ``_money``, ``_times``, ``_checks`` and ``_parsers``; the
names other modules import from here are re-exported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Self

import attrs

from .._errors import ResponseCode
from .._frozen import construction
from .._response import APIResponse
from ._checks import UrlParam
from ._enums import Channel, TransactionStatus, UrlParamType, ValidUpToFormat
from ._fields import (
    compile_function,
    keyword_arguments,
    known_names,
    read_wire,
    reader_fields,
    reader_lines,
    wire,
)
from ._money import Amount, AmountInput, parse_amount, to_amount
from ._parsers import parse_channel, parse_mapping, parse_status, parse_str
from ._times import format_jakarta, parse_time

__all__ = [
    "Amount",
    "AmountInput",
    "Channel",
    "ResponseModel",
    "TransactionStatus",
    "TransactionStatusResponse",
    "UrlParam",
    "UrlParamType",
    "ValidUpToFormat",
    "format_jakarta",
    "parse_amount",
    "parse_time",
    "to_amount",
]


def unknown_fields(body: Mapping[str, Any], known: Iterable[str]) -> Mapping[str, Any]:
    """The top-level fields a model does not name, kept so nothing Ayolinx sends is lost."""
    names = _with_envelope(known if isinstance(known, frozenset) else frozenset(known))
    if body.keys() <= names:
        return _EMPTY  # the usual answer: every field is modelled
    return MappingProxyType({key: value for key, value in body.items() if key not in names})


@functools.lru_cache(maxsize=256)
def _with_envelope(known: frozenset[str]) -> frozenset[str]:
    """``known`` plus ``responseCode``/``responseMessage`` (cached: a model's set is constant)."""
    return known | {"responseCode", "responseMessage"}


@attrs.frozen(kw_only=True, slots=True)
class ResponseModel:
    """The part every typed response shares.

    ``response`` is the whole :class:`~ayolinx_async.APIResponse` (decoded ``body``, headers,
    X-EXTERNAL-ID, attempts); ``raw`` is the exact body bytes, as everywhere in the SDK;
    ``extra`` holds the top-level fields the model does not name, so a field Ayolinx adds later
    is never lost.
    """

    response_code: ResponseCode
    response_message: str
    extra: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}), repr=False)
    response: APIResponse = attrs.field(repr=False)

    @property
    def body(self) -> Mapping[str, Any]:
        """The decoded JSON body exactly as received."""
        return self.response.body

    @property
    def raw(self) -> bytes:
        """The response body bytes exactly as received."""
        return self.response.raw

    @property
    def external_id(self) -> str | None:
        """The X-EXTERNAL-ID the call was sent with (quote it to Ayolinx support)."""
        return self.response.external_id

    @classmethod
    def from_response(cls, api: APIResponse) -> Self:
        """Build the typed answer from a decoded response: each declared wire field is parsed,
        the top-level fields no field names go to ``extra``."""
        build = _BUILDERS.get(cls)
        if build is None:
            build = _BUILDERS[cls] = _compile_builder(cls)
        return build(api)  # type: ignore[no-any-return]

    @classmethod
    def _read_general(cls, api: APIResponse) -> Self:
        """:meth:`from_response` for a body that is not a plain dict (a test's mapping)."""
        body = api.body
        values = read_wire(cls, body)
        values["response_code"] = api.response_code
        values["response_message"] = api.response_message
        values["response"] = api
        values["extra"] = unknown_fields(body, known_names(cls))
        return cls(**values)


_BUILDERS: dict[type, Callable[[APIResponse], Any]] = {}
#: What every typed response takes from the envelope, not from a wire field (the builder's
#: locals: ``api``, and ``extra`` computed there).
_ENVELOPE = {
    "response_code": "api.response_code",
    "response_message": "api.response_message",
    "extra": "extra",
    "response": "api",
}


def _compile_builder(cls: type[ResponseModel]) -> Callable[[APIResponse], Any]:
    """Per class, once: :meth:`ResponseModel.from_response` for a decoded JSON object as one
    function that reads, parses and calls the constructor (every typed call pays for it)."""
    lines, namespace, values = reader_lines(reader_fields(cls))
    namespace.update(
        cls=cls,
        general=cls._read_general,
        known=_with_envelope(known_names(cls)),
        EMPTY=_EMPTY,
        MappingProxyType=MappingProxyType,
    )
    arguments = keyword_arguments(values, _ENVELOPE)
    built, more = construction(cls, arguments, "model")
    namespace.update(more)
    source = [
        "def build(api):",
        "    body = api.body",
        "    if type(body) is not dict:",
        "        return general(api)",
        *lines,
        "    extra = EMPTY if body.keys() <= known else MappingProxyType("
        "{key: value for key, value in body.items() if key not in known})",
        *("    " + line for line in built),
        "    return model",
    ]
    return compile_function(source, namespace)


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@attrs.frozen(kw_only=True, slots=True)
class TransactionStatusResponse(ResponseModel):
    """The shape shared by the status queries (QRIS query, DANA status, VA inquiry, retail
    query): references, ``latestTransactionStatus`` (docs/protocol.md §14) and the
    optional SNAP extras."""

    original_partner_reference_no: str | None = attrs.field(
        default=None, metadata=wire("originalPartnerReferenceNo", parse=parse_str)
    )
    original_reference_no: str | None = attrs.field(
        default=None, metadata=wire("originalReferenceNo", parse=parse_str)
    )
    latest_transaction_status: TransactionStatus | None = attrs.field(
        default=None, metadata=wire("latestTransactionStatus", parse=parse_status)
    )
    transaction_status_desc: str | None = attrs.field(
        default=None, metadata=wire("transactionStatusDesc", parse=parse_str)
    )
    amount: Amount | None = attrs.field(
        default=None, metadata=wire("amount", parse=Amount.from_wire)
    )
    finished_time: datetime | None = attrs.field(
        default=None, metadata=wire("finishedTime", parse=parse_time)
    )
    paid_time: datetime | None = attrs.field(
        default=None, metadata=wire("paidTime", parse=parse_time)
    )
    channel: Channel | None = attrs.field(
        default=None, metadata=wire("additionalInfo.channel", parse=parse_channel)
    )
    additional_info: Mapping[str, Any] = attrs.field(
        factory=lambda: _EMPTY, repr=False, metadata=wire("additionalInfo", parse=parse_mapping)
    )

    @property
    def is_final(self) -> bool:
        """True once the status can no longer change (00, 04, 05, 06)."""
        status = self.latest_transaction_status
        return status is not None and status.is_terminal

    @property
    def is_paid(self) -> bool:
        status = self.latest_transaction_status
        return status is not None and status.is_success

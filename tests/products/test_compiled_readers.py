"""The compiled response builders and the parsers' exact-string shortcuts answer exactly what the
general, uncompiled path answers, for real and hostile bodies (issue 15: typed calls cheap)."""

from __future__ import annotations

import json
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayolinx_async.models as models
from ayolinx_async import ResponseCode
from ayolinx_async._response import APIResponse
from ayolinx_async.callbacks._event_fields import event_status
from ayolinx_async.models import Amount, Channel, ResponseModel, TransactionStatus, parse_time
from ayolinx_async.models._fields import _EXACT
from ayolinx_async.models._parsers import parse_channel, parse_status, parse_str
from ayolinx_async.models._times import _text_time

from .._wire_bodies import bodies, fields_text

ENVELOPE = {"responseCode": "2005100", "responseMessage": "Successful"}
RESPONSE_MODELS = sorted(
    (
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, ResponseModel)
        and value is not ResponseModel
    ),
    key=lambda cls: cls.__name__,
)


def api_for(body: Any) -> APIResponse:
    return APIResponse(
        http_status=200,
        response_code=ResponseCode.parse("2005100"),
        response_message="Successful",
        body=body,
        raw=json.dumps(body, default=str).encode(),
        path="/v1.0/test",
    )


def outcome(build: Any, api: APIResponse) -> str:
    try:
        return fields_text(build(api), leave_out="response")
    except Exception as exc:  # the two paths must also fail alike
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("cls", RESPONSE_MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_builder_answers_as_the_general_reader(
    cls: type[ResponseModel], data: st.DataObject
) -> None:
    body = data.draw(bodies(cls, ENVELOPE))
    # A mapping that is not a dict takes the general path (``read_wire``'s ``_first``, the
    # parsers called for every value, ``unknown_fields``).
    general = outcome(cls._read_general, api_for(MappingProxyType(body)))
    # The shared builder itself (a subclass's override adds its own checks around it).
    compiled = ResponseModel.from_response.__func__  # type: ignore[attr-defined]
    assert outcome(lambda api: compiled(cls, api), api_for(body)) == general


def test_the_builder_reads_a_real_status_answer() -> None:
    body = {
        "responseCode": "2005100",
        "responseMessage": "Successful",
        "originalPartnerReferenceNo": "ORDER-1",
        "latestTransactionStatus": "00",
        "finishedTime": "2024-09-18T13:40:00+07:00",
        "amount": {"value": "10000.00", "currency": "IDR"},
        "additionalInfo": {"channel": "BNC_QRIS", "note": "kept"},
        "newField": 1,
    }
    api = api_for(body)
    answer = models.QrisQueryResponse.from_response(api)
    assert answer.latest_transaction_status is TransactionStatus.SUCCESS
    assert answer.channel is Channel.BNC_QRIS
    assert answer.finished_time is not None
    assert answer.finished_time.isoformat() == "2024-09-18T13:40:00+07:00"
    assert answer.amount == Amount(value=Decimal("10000.00"), currency="IDR")
    assert dict(answer.additional_info) == {"channel": "BNC_QRIS", "note": "kept"}
    assert dict(answer.extra) == {"newField": 1}
    assert answer.response is api
    assert answer.paid_time is None
    assert answer.original_reference_no is None


def test_a_subclass_override_of_from_response_still_runs() -> None:
    """QrisGenerateResponse refuses a success without qrContent before the builder runs."""
    from ayolinx_async import ResponseDecodeError

    with pytest.raises(ResponseDecodeError, match="qrContent"):
        models.QrisGenerateResponse.from_response(api_for({"responseCode": "2004700"}))


@pytest.mark.parametrize("parse", [parse_str, parse_status, parse_channel, event_status])
def test_registered_shortcuts_agree_with_their_parsers(parse: Any) -> None:
    """A compiled reader answers a string from the table (or as itself) without calling the
    parser: every entry must be exactly what the parser returns."""
    assert parse in _EXACT
    table = _EXACT[parse]
    if table is None:
        for text in ["", "x", " 00 ", "²", "BNC_QRIS"]:
            assert parse(text) is text
        return
    entries = table()
    assert entries, "an empty table would make the shortcut pointless"
    for text, answer in entries.items():
        assert parse(text) is answer


@given(st.text(max_size=30) | st.sampled_from(["2024-09-18T13:40:00+07:00"]))
def test_parse_time_fast_path_agrees_with_the_careful_path(text: str) -> None:
    assert parse_time(text) == _text_time(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-09-18T13:40:00+07:00",
        "2024-09-18T13:40:00-03:30",
        "2024-09-18T13:40:00 07:00",
        "2024-09-18T13:40:00+0700 ",
        "\uff12024-09-18T13:40:00+07:00",
        "2024-09-18T13:40:00+99:00",
        "0000-09-18T13:40:00+07:00",
        "2024-W38-1T13:40:00+07:00",
        "2024-09-18T13:40:00.12+07",
        "2024-09-18T13:40:00+07:00 ",
        " 2024-09-18T13:40:00+07:00",
    ],
)
def test_parse_time_fast_path_agrees_on_near_misses(text: str) -> None:
    fast, careful = parse_time(text), _text_time(text)
    assert fast == careful
    assert fast is None or fast.tzinfo is not None


def test_to_channel_takes_a_known_member_as_is_and_still_checks_unknown_ones() -> None:
    from ayolinx_async import ValidationError
    from ayolinx_async.models._checks import to_channel

    assert to_channel(Channel.BNC_QRIS) is Channel.BNC_QRIS
    assert to_channel("BNC_QRIS") is Channel.BNC_QRIS
    assert to_channel(Channel("NEW_CODE")) == "NEW_CODE"
    with pytest.raises(ValidationError, match="channel"):
        to_channel(Channel("  "))  # a blank pseudo-member is not a code

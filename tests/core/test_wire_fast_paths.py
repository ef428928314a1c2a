"""The hot-path shortcuts (compiled wire readers, plain-IDR amounts, known enum codes, plain
references) must answer exactly as the general code does, hostile values included: each case is
run both ways (a ``str`` subclass or a read-only mapping takes the general path)."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import attrs
import pytest

from ayolinx_async.callbacks import VirtualAccountNotification
from ayolinx_async.models import QrisQueryResponse
from ayolinx_async.models._checks import check_text, to_channel
from ayolinx_async.models._fields import Unreadable, read_wire, wire
from ayolinx_async.models._money import Amount
from ayolinx_async.models._parsers import parse_channel, parse_status


class _Str(str):
    """Not exactly ``str``: skips every ``type(x) is str`` shortcut."""


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", function()
    except Exception as exc:  # the comparison is of the whole behaviour, errors included
        return type(exc).__name__, str(exc)


TEXTS = ["R1", "R-1_x.y", "R1\n", "R1\r", " R1", "R 1", "", "   ", "é1", "x" * 64, "x" * 65,
         "\x00", "R1\x7f", "\uff11\uff12\uff13", "+62812", "0812", "²"]  # fmt: skip


@pytest.mark.parametrize("kind", ["reference", "digits", "phone", "text", "url", "email"])
@pytest.mark.parametrize("text", TEXTS)
def test_plain_text_shortcut_matches_the_full_rules(kind: Any, text: str) -> None:
    fast = _outcome(lambda: check_text(text, field="f", max_length=64, kind=kind))
    slow = _outcome(lambda: check_text(_Str(text), field="f", max_length=64, kind=kind))
    assert fast == slow


@pytest.mark.parametrize("code", ["BNC_QRIS", "BNC_QRIS ", " BNC_QRIS", "bnc_qris", "NEW_ONE", ""])
def test_known_channel_shortcut_matches_the_enum(code: str) -> None:
    fast, slow = _outcome(lambda: to_channel(code)), _outcome(lambda: to_channel(_Str(code)))
    assert fast == slow
    if fast[0] == "ok":
        assert fast[1].is_known == slow[1].is_known
    assert parse_channel(code) == parse_channel(_Str(code))


@pytest.mark.parametrize("code", ["00", "01", "06", " 00", "00 ", "99", "", "²"])
def test_known_status_shortcut_matches_the_enum(code: str) -> None:
    fast, slow = parse_status(code), parse_status(_Str(code))
    assert fast == slow
    assert (fast is None) == (slow is None)
    if fast is not None and slow is not None:
        assert fast.is_known == slow.is_known


AMOUNTS: list[Any] = [
    "10000.00", "10000", "0.00", "0", "10000.0", "10000.000", "20.000", "-5.00", "1,234.00",
    " 10000.00", "10000.00 ", "\uff11\uff10", "²", "1E+999999", "NaN", "9" * 18, "9" * 19,
    "0" * 30 + "1",
    10000, 10000.5, None, True, [],
]  # fmt: skip


@pytest.mark.parametrize("currency", ["IDR", "idr", "USD", "", None, "IDRX"])
@pytest.mark.parametrize("value", AMOUNTS)
def test_plain_idr_amount_shortcut_matches_the_general_parser(value: Any, currency: Any) -> None:
    data = {"value": value, "currency": currency}
    assert Amount.from_wire(data) == Amount.from_wire(MappingProxyType(data))


BODIES: list[dict[str, Any]] = [
    {"responseCode": "2005100", "originalPartnerReferenceNo": "R1", "latestTransactionStatus": "00",
     "amount": {"value": "10000.00", "currency": "IDR"}, "additionalInfo": {"channel": "BNC_QRIS"},
     "paidTime": "2024-01-01T10:00:00+07:00", "extraField": 1},
    {"latestTransactionStatus": 0, "amount": {"value": 1e400}, "additionalInfo": "not an object"},
    {"originalPartnerReferenceNo": 12, "additionalInfo": {"channel": " X "}, "paidTime": "bad"},
    {"additionalInfo": MappingProxyType({"channel": "BNC_QRIS"}), "finishedTime": 5},
    {},
]  # fmt: skip


VA_BODIES: list[dict[str, Any]] = [
    {"virtualAccountNo": "888", "additionalInfo": {"virtualAccountNo": "999", "paymentNtb": "7"}},
    {"virtualAccountNo": "", "additionalInfo": {"virtualAccountNo": "999"}},
    {"virtualAccountNo": None, "additionalInfo": {"virtualAccountNo": 12}},
    {"virtualAccountNo": 0, "additionalInfo": {}},
    {"additionalInfo": ["not", "an", "object"], "virtualAccountNo": 1e400},
    {"additionalInfo": MappingProxyType({"virtualAccountNo": "5", "paymentNtb": 3})},
]


@pytest.mark.parametrize(
    ("model", "body"),
    [(QrisQueryResponse, body) for body in BODIES]
    + [(VirtualAccountNotification, body) for body in VA_BODIES],
)
def test_compiled_reader_matches_the_general_reader(model: type, body: dict[str, Any]) -> None:
    fast = _outcome(lambda: read_wire(model, body))
    slow = _outcome(lambda: read_wire(model, MappingProxyType(body)))
    assert fast == slow


def _strict(value: object) -> str:
    if not isinstance(value, str):
        raise Unreadable("bad_text", suffix=".x")
    return value


@attrs.frozen
class _Strict:
    top: str = attrs.field(metadata=wire("top", parse=_strict))
    inner: str = attrs.field(metadata=wire("additionalInfo.inner", parse=_strict))


@pytest.mark.parametrize(
    ("body", "field"),
    [({"top": 1, "additionalInfo": {"inner": "a"}}, "top"), ({"top": "a"}, "additionalInfo.inner")],
)
def test_a_strict_refusal_names_its_wire_path_on_both_readers(
    body: dict[str, Any], field: str
) -> None:
    for given in (body, MappingProxyType(body)):
        with pytest.raises(Unreadable) as caught:
            read_wire(_Strict, given)
        assert (caught.value.field, caught.value.suffix) == (field, ".x")


def test_a_models_own_additional_info_is_accepted_again() -> None:
    """``attrs.evolve`` passes the read-only mapping the converter made back through it."""
    from ayolinx_async.models import QrisQueryRequest

    request = QrisQueryRequest(original_partner_reference_no="R1", additional_info={"a": 1})
    moved = attrs.evolve(request, original_partner_reference_no="R2")
    assert dict(moved.additional_info) == {"a": 1}
    assert moved.to_wire()["additionalInfo"] == {"channel": "BNC_QRIS", "a": 1}


@pytest.mark.parametrize(
    "extra",
    [{}, {"x": 1}, MappingProxyType({}), MappingProxyType({"x": 1, "y": [1]}), None],
)
def test_rendered_additional_info_is_a_fresh_plain_dict_led_by_nested_fields(
    extra: Any,
) -> None:
    """The renderer skips merging an empty ``additional_info`` (the usual case): the object it
    sends is still a plain dict of its own, the nested ``channel`` first, extras after."""
    from ayolinx_async.models import QrisQueryRequest

    request = QrisQueryRequest(original_partner_reference_no="R1", additional_info=extra)
    first, second = request.to_wire(), request.to_wire()
    info = first["additionalInfo"]
    assert type(info) is dict
    assert list(info.items()) == [("channel", "BNC_QRIS"), *dict(extra or {}).items()]
    assert info is not second["additionalInfo"]
    info["mutated"] = True
    assert "mutated" not in request.to_wire()["additionalInfo"]
    assert "mutated" not in request.additional_info

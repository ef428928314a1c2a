"""The compiled event builders (one function per event class and mandatory groups) answer what
the general path answers, for real and hostile notify and VA payment bodies: the same event,
or the same 400 naming the same field (issue 15)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ayolinx_async._errors import CallbackRejected
from ayolinx_async.callbacks._events import (
    _NOTIFY_REQUIRED,
    _VA_PAYMENT_REQUIRED,
    EwalletNotification,
    PaymentNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
)
from ayolinx_async.models._fields import _specs

CASES = [
    (QrisNotification, _NOTIFY_REQUIRED),
    (EwalletNotification, _NOTIFY_REQUIRED),
    (VirtualAccountNotification, _NOTIFY_REQUIRED),
    (RetailNotification, _NOTIFY_REQUIRED),
    (PaymentNotification, _NOTIFY_REQUIRED),
    (VaPaymentRequest, _VA_PAYMENT_REQUIRED),
]

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "00",
            "06",
            " 00",
            "",
            " ",
            "²",
            "A1REF1",
            "REF\u00e9",
            "BNC_QRIS",
            "10000.00",
            "IDR",
            "2024-09-18T13:40:00+07:00",
            "2024-09-18T13:40:00 07:00",
        ]
    ),
    st.text(max_size=12),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["value", "currency", "channel", "RRN", "x"]), inner)
    ),
    max_leaves=6,
)


def _keys(cls: type) -> list[str]:
    keys = {".".join(path) for _, spec in _specs(cls) for path in spec.paths}
    return sorted(keys | {"unknownTop", "additionalInfo.unknownInner"})


@st.composite
def _bodies(draw: st.DrawFn, cls: type) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(_keys(cls)), max_size=14)):
        head, _, rest = key.partition(".")
        value = draw(VALUES)
        if rest:
            inner = body.setdefault(head, {})
            if isinstance(inner, dict):
                inner[rest] = value
        else:
            body[head] = value
    return body


def _outcome(cls: Any, body: Any, required: Any) -> str:
    try:
        event = cls._parse(body, required, b"raw", "/p", "t", None, owned=False)
    except CallbackRejected as exc:
        return f"rejected {exc.http_status} {exc.response_code('25')} {exc.message} {exc.reason}"
    return repr(
        [
            (field.name, type(getattr(event, field.name)), getattr(event, field.name))
            for field in attrs.fields(type(event))
        ]
    )


@pytest.mark.parametrize(("cls", "required"), CASES, ids=lambda case: getattr(case, "__name__", ""))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_compiled_builder_answers_as_the_general_path(
    cls: Any, required: Any, data: st.DataObject
) -> None:
    body = data.draw(_bodies(cls))
    # A mapping that is not a dict takes the general path (read_event_fields, then **fields).
    general = _outcome(cls, MappingProxyType(body), required)
    assert _outcome(cls, body, required) == general


def test_a_compiled_event_keeps_a_copy_of_a_callers_body() -> None:
    body = {"latestTransactionStatus": "00", "originalReferenceNo": "A1", "x": 1}
    event = QrisNotification._parse(body, _NOTIFY_REQUIRED, b"", "", "", None, owned=False)
    assert event.body == body
    assert event.body is not body
    assert dict(event.extra) == {"x": 1}
    owned = QrisNotification._parse(body, _NOTIFY_REQUIRED, b"", "", "", None, owned=True)
    assert owned.body is body


def test_the_mandatory_groups_are_checked_in_order() -> None:
    """Status first (400xx02 naming latestTransactionStatus), then a reference."""
    with pytest.raises(CallbackRejected, match="latestTransactionStatus"):
        QrisNotification._parse({}, _NOTIFY_REQUIRED, b"", "", "", None)
    with pytest.raises(CallbackRejected, match="originalReferenceNo"):
        QrisNotification._parse(
            {"latestTransactionStatus": "00"}, _NOTIFY_REQUIRED, b"", "", "", None
        )

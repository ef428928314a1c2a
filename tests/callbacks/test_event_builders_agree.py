"""The compiled event builders (one function per event class and mandatory groups) answer what
the general path answers, for real and hostile notify and VA payment bodies: the same event,
or the same 400 naming the same field (issue 15)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

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

from .._wire_bodies import bodies, fields_text

CASES = [
    (QrisNotification, _NOTIFY_REQUIRED),
    (EwalletNotification, _NOTIFY_REQUIRED),
    (VirtualAccountNotification, _NOTIFY_REQUIRED),
    (RetailNotification, _NOTIFY_REQUIRED),
    (PaymentNotification, _NOTIFY_REQUIRED),
    (VaPaymentRequest, _VA_PAYMENT_REQUIRED),
]


def _outcome(cls: Any, body: Any, required: Any) -> str:
    try:
        event = cls._parse(body, required, b"raw", "/p", "t", None, owned=False)
    except CallbackRejected as exc:
        return f"rejected {exc.http_status} {exc.response_code('25')} {exc.message} {exc.reason}"
    return fields_text(event)


@pytest.mark.parametrize(("cls", "required"), CASES, ids=lambda case: getattr(case, "__name__", ""))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_compiled_builder_answers_as_the_general_path(
    cls: Any, required: Any, data: st.DataObject
) -> None:
    body = data.draw(bodies(cls))
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

"""A typed method's keywords become its request model through a builder compiled per method
(``_resources/_base._compile_keyword_builder``): for every resource method it must give what
the general reading gives, the same model or the same refusal naming the same field, for
keywords given, left out (``None``), hostile, and filled by resource defaults."""

from __future__ import annotations

import inspect
import typing
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayolinx_async._resources import _base
from ayolinx_async._resources._base import Resource, _build_general, build_request
from ayolinx_async._resources.ewallet import EwalletResource
from ayolinx_async._resources.payment_link import PaymentLinksResource
from ayolinx_async._resources.qris import QrisResource
from ayolinx_async._resources.retail import RetailResource
from ayolinx_async._resources.virtual_account import VirtualAccountsResource
from ayolinx_async.models import Channel, UrlParam


def _methods() -> list[tuple[str, type, list[str]]]:
    """(name, request model, keyword names in ``locals()`` order) of every typed method."""
    found = []
    resources = (
        QrisResource,
        EwalletResource,
        RetailResource,
        VirtualAccountsResource,
        PaymentLinksResource,
    )
    for resource in resources:
        for name, method in inspect.getmembers(resource, inspect.iscoroutinefunction):
            if name.startswith("_") or "request" not in inspect.signature(method).parameters:
                continue
            hint = typing.get_type_hints(method)["request"]
            (model,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            names = list(inspect.signature(method).parameters)
            found.append((f"{resource.__name__}.{name}", model, names))
    return found


_METHODS = _methods()

#: What callers pass: right values, wrong types, blank, too long, control characters, shadowing
#: additionalInfo keys, URL entries, amounts people type.
_VALUES = st.sampled_from(
    [
        "R1",
        "2024091813363612345678",
        " ",
        "",
        "x" * 300,
        "a\nb",
        "BNC_QRIS",
        "DANA",
        "10000",
        "25.000",
        "10000.00",
        -1,
        0,
        10000,
        Decimal("1.5"),
        True,
        {},
        {"x": 1},
        {"channel": "X"},
        MappingProxyType({"note": "n"}),
        [],
        [UrlParam.notification("https://merchant.example/notify")],
        "https://merchant.example/return",
        Channel.BNC_QRIS,
        object(),
    ]
)


def _outcome(build: Any) -> tuple[str, Any]:
    try:
        return "ok", build()
    except Exception as exc:  # compared, not swallowed: both readings must do the same
        return type(exc).__name__, (getattr(exc, "field", None), str(exc))


@pytest.mark.parametrize(("method", "model", "names"), _METHODS, ids=[m[0] for m in _METHODS])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_builder_reads_keywords_as_the_general_one(
    method: str, model: type, names: list[str], data: st.DataObject
) -> None:
    keywords: dict[str, object] = {name: None for name in names}
    keywords["self"] = object()
    for name in names:
        if name not in _base._CALL_KEYWORDS:
            keywords[name] = data.draw(st.one_of(st.none(), _VALUES), label=name)
    fields = [name for name in names if name not in _base._CALL_KEYWORDS]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=2), label="defaults")
    defaults = {
        name: data.draw(st.one_of(st.none(), _VALUES), label=f"default {name}") for name in chosen
    }
    compiled = _outcome(lambda: build_request(model, None, dict(keywords), **defaults))
    general = _outcome(lambda: _build_general(model, dict(keywords), defaults))
    assert compiled == general


def test_every_typed_method_is_covered() -> None:
    assert len(_METHODS) >= 10
    assert {model.__name__ for _, model, _ in _METHODS} >= {
        "QrisGenerateRequest",
        "QrisQueryRequest",
        "VirtualAccountCreateRequest",
        "PaymentLinkCreateRequest",
        "RetailCreateRequest",
    }


def test_the_builder_is_compiled_once_per_method_shape() -> None:
    from ayolinx_async.models import QrisQueryRequest

    keywords = {"self": None, "request": None, "original_partner_reference_no": "R1"}
    first = build_request(QrisQueryRequest, None, dict(keywords))
    count = len(_base._KEYWORD_BUILDERS)
    assert build_request(QrisQueryRequest, None, dict(keywords)) == first
    assert len(_base._KEYWORD_BUILDERS) == count
    assert issubclass(QrisResource, Resource)

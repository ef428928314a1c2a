"""Frozen objects built with plain slot stores (``ayolinx_async._frozen``) must be the objects
``cls(...)`` builds: same type, fields, defaults, equality, hash and frozenness, for every
class of the SDK that takes that path; a class whose ``__init__`` does more never takes it."""

from __future__ import annotations

import gc
import importlib
import pickle
import pkgutil
from typing import Any

import attrs
import pytest

import ayolinx_async
from ayolinx_async import APIResponse, QrisQueryResponse
from ayolinx_async._frozen import construction, maker, takes_plain_stores
from ayolinx_async.callbacks import QrisNotification, VirtualAccountNotification
from ayolinx_async.models import ResponseModel
from ayolinx_async.transport import HttpRequest, HttpResponse


def _sdk_attrs_classes() -> list[type]:
    for module in pkgutil.walk_packages(ayolinx_async.__path__, "ayolinx_async."):
        if not any(part in module.name for part in ("contrib", "integrations", "_cli")):
            importlib.import_module(module.name)
    found = {
        klass
        for klass in gc.get_objects()
        if isinstance(klass, type)
        and str(getattr(klass, "__module__", "")).startswith("ayolinx_async")
        and "__attrs_attrs__" in vars(klass)  # decorated: not a twin
    }
    return sorted(found, key=lambda klass: (klass.__module__, klass.__qualname__))


_CLASSES = _sdk_attrs_classes()
_PLAIN = [klass for klass in _CLASSES if takes_plain_stores(klass)]


def _arguments(cls: type, skip_defaults: bool) -> dict[str, Any]:
    """A distinct value per field (defaults left out when ``skip_defaults``)."""
    return {
        field.alias: f"value-of-{field.name}"
        for field in attrs.fields(cls)
        if not (skip_defaults and field.default is not attrs.NOTHING)
    }


def test_the_hot_classes_take_plain_stores() -> None:
    """The point of the module: a refactor that quietly sends these back to ``__init__``
    (a converter added, say) must be seen."""
    hot = [APIResponse, HttpRequest, HttpResponse, QrisQueryResponse, QrisNotification]
    hot += [klass for klass in _CLASSES if issubclass(klass, ResponseModel)]
    assert [klass for klass in hot if not takes_plain_stores(klass)] == []
    assert len(_PLAIN) >= 40


@pytest.mark.parametrize("cls", _PLAIN, ids=lambda klass: klass.__qualname__)
@pytest.mark.parametrize("skip_defaults", [False, True], ids=["all", "required"])
def test_a_plainly_built_object_is_the_one_init_builds(cls: type[Any], skip_defaults: bool) -> None:
    arguments = _arguments(cls, skip_defaults)
    refused = _outcome(lambda kwargs: cls(**kwargs), arguments)
    if refused[0] == "error":
        # A validator or converter refused the sample values: the same refusal, same text.
        assert _refusal(maker(cls), arguments) == _refusal(cls, arguments)
        return
    fast, slow = maker(cls)(**arguments), cls(**arguments)
    again, slow_again = maker(cls)(**arguments), cls(**arguments)
    assert type(fast) is cls
    assert fast == slow
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)
    assert _outcome(repr, fast) == _outcome(repr, slow)
    assert _outcome(hash, fast) == _outcome(hash, slow)
    for field in attrs.fields(cls):
        # A factory default is a fresh object per instance exactly when __init__ makes one.
        name = field.name
        fresh = getattr(slow, name) is not getattr(slow_again, name)
        assert (getattr(fast, name) is not getattr(again, name)) == fresh
    first = attrs.fields(cls)[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(fast, first.name, "changed")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        delattr(fast, first.name)
    assert not hasattr(fast, "__dict__")
    change = {first.alias: getattr(slow, first.name)}
    evolved = attrs.evolve(fast, **change)
    assert type(evolved) is cls
    assert evolved == attrs.evolve(slow, **change) == slow


def _refusal(build: Any, arguments: dict[str, Any]) -> tuple[str, str]:
    try:
        build(**arguments)
    except Exception as exc:  # compared, not swallowed
        return type(exc).__name__, str(exc)
    raise AssertionError("not refused")


def _outcome(function: Any, value: object) -> tuple[str, object]:
    """What ``function(value)`` returns or the kind of error it raises."""
    try:
        return "ok", function(value)
    except Exception as exc:  # compared, not swallowed: both sides must do the same
        return "error", type(exc).__name__


def test_a_plainly_built_object_pickles_and_is_collected() -> None:
    import weakref

    response = maker(HttpResponse)(status_code=200, headers={"a": "b"}, content=b"{}")
    assert pickle.loads(pickle.dumps(response)) == response
    gone = weakref.ref(response)
    del response
    gc.collect()
    assert gone() is None


def test_maker_takes_positional_arguments_where_init_does() -> None:
    @attrs.frozen(slots=True)
    class Point:
        x: int
        y: int = 0
        tags: list[str] = attrs.field(factory=list)
        label: str = attrs.field(default="", kw_only=True)

    make = maker(Point)
    assert make is not Point
    assert make(1) == Point(1) == Point(x=1, y=0, tags=[], label="")
    assert make(1, 2, ["t"], label="l") == Point(1, 2, ["t"], label="l")
    with pytest.raises(TypeError):
        make(1, 2, ["t"], "l")  # type: ignore[call-arg]  # keyword-only, as in __init__
    with pytest.raises(TypeError):
        make()  # type: ignore[call-arg]


def _frozen(**options: Any) -> type:
    @attrs.frozen(slots=True, **options)
    class Sample:
        a: int
        b: int = 0

    return Sample


def _with_field(field: Any) -> type:
    @attrs.frozen(slots=True)
    class Sample:
        a: int = field

    return Sample


class _PreInit:
    @attrs.frozen(slots=True)
    class Sample:
        a: int

        def __attrs_pre_init__(self) -> None:
            pass


@pytest.mark.parametrize(
    "cls",
    [
        _frozen(cache_hash=True),  # a hidden slot of its own
        _with_field(attrs.field(init=False, default=1)),
        _with_field(attrs.field(default=attrs.Factory(lambda self: 1, takes_self=True))),
        _with_field(attrs.field(converter=attrs.Converter(lambda v, self: v, takes_self=True))),
        _PreInit.Sample,
        attrs.define(slots=True)(type("Mutable", (), {"__annotations__": {"a": "int"}})),
        attrs.frozen(slots=False)(type("Dicted", (), {"__annotations__": {"a": "int"}})),
    ],
    ids=["cache_hash", "no_init", "takes_self", "converter_object", "pre_init", "mutable", "dict"],
)
def test_a_class_whose_init_does_more_is_built_by_it(cls: type) -> None:
    assert not takes_plain_stores(cls)
    assert maker(cls) is cls
    lines, namespace = construction(cls, {"a": "1"}, "obj")
    (name,) = [name for name, value in namespace.items() if value is cls]
    assert lines == [f"obj = {name}(a=1)"]


#: What the checked sample's converters, validators and hook did, in order.
_SEEN: list[str] = []


def _validate(instance: Any, attribute: Any, value: Any) -> None:
    _SEEN.append(f"validate {attribute.name}={value!r} on {type(instance).__name__}")
    if value == "BAD" or value == "bad":
        raise ValueError(f"{attribute.name} is bad")


def _convert(value: Any) -> Any:
    _SEEN.append(f"convert {value!r}")
    return value.upper() if isinstance(value, str) else value


@attrs.frozen(slots=True, kw_only=True)
class _Checked:
    """Converters (defaults too), validators after every field is set, the hook last."""

    a: Any = attrs.field(converter=_convert, validator=_validate)
    b: str = attrs.field(default="dflt", converter=_convert)
    c: Any = attrs.field(factory=list, validator=_validate)

    def __attrs_post_init__(self) -> None:
        _SEEN.append(f"post-init {self.a}")


@pytest.mark.parametrize(
    "arguments",
    [{"a": "x"}, {"a": "x", "b": "y", "c": ["z"]}, {"a": "bad"}, {"a": 1, "c": "bad"}],
)
@pytest.mark.parametrize("validators", [True, False], ids=["validators", "disabled"])
def test_converters_validators_and_post_init_run_as_init_runs_them(
    arguments: dict[str, Any], validators: bool
) -> None:
    assert takes_plain_stores(_Checked)
    outcomes = []
    for build in (_Checked, maker(_Checked)):
        _SEEN.clear()
        attrs.validators.set_disabled(not validators)
        try:
            outcome: tuple[str, object] = ("ok", build(**arguments))
        except ValueError as exc:
            outcome = ("error", str(exc))
        finally:
            attrs.validators.set_disabled(False)
        outcomes.append((outcome, list(_SEEN)))
    assert outcomes[0] == outcomes[1]
    assert any(step.startswith("convert") for step in outcomes[0][1])


def test_request_models_are_built_with_their_checks() -> None:
    """Typed calls build request models through ``maker``: a refusal is the same
    ``ValidationError`` naming the field."""
    from ayolinx_async import ValidationError
    from ayolinx_async.models import QrisQueryRequest

    assert takes_plain_stores(QrisQueryRequest)
    make = maker(QrisQueryRequest)
    assert make(original_partner_reference_no="R1") == QrisQueryRequest(
        original_partner_reference_no="R1"
    )
    for bad in (
        {"original_partner_reference_no": " "},
        {"original_partner_reference_no": "R", "channel": "\n"},
    ):
        errors = []
        builds: tuple[Any, ...] = (QrisQueryRequest, make)
        for build in builds:
            with pytest.raises(ValidationError) as info:
                build(**bad)
            errors.append((info.value.field, str(info.value)))
        assert errors[0] == errors[1]
    with pytest.raises(ValidationError, match=r"additional_info\.channel"):
        make(original_partner_reference_no="R1", additional_info={"channel": "X"})


def test_construction_refuses_what_init_would() -> None:
    with pytest.raises(TypeError, match="no field"):
        construction(
            HttpResponse, {"status_code": "1", "headers": "h", "content": "c", "x": "1"}, "o"
        )
    with pytest.raises(TypeError, match="content has no default"):
        construction(HttpResponse, {"status_code": "1", "headers": "h"}, "o")


def test_a_users_subclass_of_a_response_model_is_built_as_itself() -> None:
    """``from_response`` compiles per class: a user's frozen subclass with a field of its own
    gets its own twin, and its default."""

    @attrs.frozen(kw_only=True, slots=True)
    class Mine(QrisQueryResponse):
        note: str = "mine"

    api = APIResponse(
        http_status=200,
        response_code=ayolinx_async.ResponseCode.parse("2005100"),
        response_message="Successful",
        body={"responseCode": "2005100", "latestTransactionStatus": "00", "x": 1},
        raw=b"{}",
    )
    mine = Mine.from_response(api)
    assert type(mine) is Mine
    assert mine.note == "mine"
    assert dict(mine.extra) == {"x": 1}
    assert mine.latest_transaction_status is ayolinx_async.TransactionStatus.SUCCESS
    assert QrisQueryResponse.from_response(api).extra == mine.extra
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        mine.note = "changed"  # type: ignore[misc]


def test_events_are_built_as_their_class() -> None:
    for cls in (QrisNotification, VirtualAccountNotification):
        assert takes_plain_stores(cls)

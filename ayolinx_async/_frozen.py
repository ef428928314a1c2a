"""Frozen attrs objects built without a ``__setattr__`` call per field (issue 15).

A frozen slots class's ``__init__`` sets each field through ``object.__setattr__``: about
0.9k instructions a field, and every call builds several such objects (a 22-field event,
a 13-field response). Here the object is made as the class's *twin*, a subclass that adds no
slots and keeps ``object``'s ``__setattr__``, so each field is a plain slot store, and then
becomes the frozen class by one ``__class__`` assignment (same layout, so CPython allows it).
Converters, validators and ``__attrs_post_init__`` run as attrs' ``__init__`` runs them
(each value converted as it is set, validators after, in field order, unless disabled; the
hook last). A class with anything else (``__attrs_pre_init__``, ``init=False`` fields,
self-taking factories or converters, a cached hash, no slots) is built by its own
``__init__``: :func:`construction` falls back by itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

import attrs
from attr import _config as _attrs_config

__all__ = ["construction", "maker", "takes_plain_stores"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
#: The class of ``attrs.Factory(...)`` defaults (typed as a function in attrs' stubs).
_FACTORY: type[Any] = type(attrs.Factory(list))
#: attrs' ``Converter`` (a converter that may take the instance): always run by ``__init__``.
_CONVERTER: type[Any] = attrs.Converter

#: Per class: its twin, or ``None`` when its ``__init__`` must run.
_TWINS: dict[type, type | None] = {}
#: Distinct namespace names for the classes one compiled function builds.
_SERIAL = itertools.count()


def takes_plain_stores(cls: type) -> bool:
    """Whether ``cls`` is built here (a frozen attrs slots class whose ``__init__`` does only
    what :func:`construction` repeats), not by calling it."""
    return _twin(cls) is not None


def _twin(cls: type) -> type | None:
    if cls not in _TWINS:
        _TWINS[cls] = _make_twin(cls) if _plain(cls) else None
    return _TWINS[cls]


def _plain(cls: type) -> bool:
    if not attrs.has(cls) or cls.__new__ is not object.__new__:
        return False
    if hasattr(cls, "__attrs_pre_init__"):
        return False
    fields = attrs.fields(cls)
    for field in fields:
        if not field.init or isinstance(field.converter, _CONVERTER):
            return False  # a Converter object may take the instance or the field
        if isinstance(field.default, _FACTORY) and field.default.takes_self:
            return False
    slots: set[str] = set()
    for klass in cls.__mro__[:-1]:
        if "__slots__" not in klass.__dict__:
            return False  # a class without __slots__ gives instances a __dict__
        declared = klass.__dict__["__slots__"]
        slots.update((declared,) if isinstance(declared, str) else declared)
    # Nothing but the fields (and weak references): a cached hash lives in a slot of its own.
    if slots - {"__weakref__"} != {field.name for field in fields} or not fields:
        return False
    return _frozen(cls, fields[0].name)


def _frozen(cls: type, name: str) -> bool:
    """Whether setting a field on an instance raises ``FrozenInstanceError`` (and does
    nothing else: a frozen class refuses before any hook runs)."""
    probe: object = object.__new__(cls)
    try:
        setattr(probe, name, None)
    except attrs.exceptions.FrozenInstanceError:
        return True
    except Exception:  # an on_setattr hook that refused: not plain
        return False
    return False


def _make_twin(cls: type) -> type:
    return type(
        f"_Building{cls.__name__}",
        (cls,),
        {
            "__slots__": (),
            "__module__": cls.__module__,
            "__setattr__": object.__setattr__,
            # tp_setattro serves both: a Python __delattr__ would slow every store too.
            "__delattr__": object.__delattr__,
        },
    )


def construction(
    cls: type, values: Mapping[str, str], target: str
) -> tuple[list[str], dict[str, Any]]:
    """Source lines (unindented) that bind ``target`` to ``cls(**values)``, where ``values``
    maps ``__init__`` parameter names to expressions, and the globals they need. Left-out
    fields take their defaults; a class :func:`takes_plain_stores` refuses is called."""
    serial = next(_SERIAL)
    own = f"_fz{serial}_cls"
    namespace: dict[str, Any] = {own: cls}
    twin = _twin(cls)
    if twin is None:
        arguments = ", ".join(f"{name}={value}" for name, value in values.items())
        return [f"{target} = {own}({arguments})"], namespace
    namespace[f"_fz{serial}_twin"] = twin
    namespace["_fz_new"] = object.__new__
    lines = [f"{target} = _fz_new(_fz{serial}_twin)"]
    unknown = set(values) - {field.alias for field in attrs.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    checks = []
    for index, field in enumerate(attrs.fields(cls)):
        name = f"_fz{serial}_{index}"
        if field.alias in values:
            value = values[field.alias]
        elif field.default is attrs.NOTHING:
            raise TypeError(f"{cls.__name__}: {field.alias} has no default and no value")
        elif isinstance(field.default, _FACTORY):
            value = f"{name}_factory()"
            namespace[f"{name}_factory"] = field.default.factory
        else:
            value = f"{name}_default"
            namespace[value] = field.default
        if field.converter is not None:
            # Defaults are converted too, as attrs' __init__ does.
            value = f"{name}_convert({value})"
            namespace[f"{name}_convert"] = field.converter
        lines.append(f"{target}.{field.name} = {value}")
        if field.validator is not None:
            namespace[f"{name}_validate"], namespace[f"{name}_field"] = field.validator, field
            checks.append(f"    {name}_validate({target}, {name}_field, {target}.{field.name})")
    lines.append(f"{target}.__class__ = {own}")
    if checks:
        if hasattr(_attrs_config, "_run_validators"):
            # The switch attrs' own __init__ reads (two calls less than get_disabled()).
            namespace["_fz_config"] = _attrs_config
            lines.append("if _fz_config._run_validators is True:")
        else:
            namespace["_fz_disabled"] = attrs.validators.get_disabled
            lines.append("if not _fz_disabled():")
        lines += checks
    if hasattr(cls, "__attrs_post_init__"):
        lines.append(f"{target}.__attrs_post_init__()")
    return lines, namespace


def maker(cls: Callable[_P, _T]) -> Callable[_P, _T]:
    """A function taking ``cls``'s ``__init__`` arguments that returns the same object
    ``cls(...)`` would, faster when :func:`takes_plain_stores`: for hot paths that
    build the same class on every call (typed as ``cls`` itself, so calls are checked)."""
    if not isinstance(cls, type) or _twin(cls) is None:
        return cls
    made = _MAKERS.get(cls)
    if made is None:
        made = _MAKERS[cls] = _compile_maker(cls)
    return cast("Callable[_P, _T]", made)


#: Per class: its compiled maker (callers on every call may ask each time).
_MAKERS: dict[type, Callable[..., Any]] = {}


def _compile_maker(cls: type) -> Callable[..., Any]:
    fields = attrs.fields(cls)
    body, namespace = construction(cls, {field.alias: field.alias for field in fields}, "obj")
    positional: list[str] = []
    keyword: list[str] = []
    fills: list[str] = []
    for field in fields:
        name = field.alias
        parameters = keyword if field.kw_only else positional
        if field.default is attrs.NOTHING:
            parameters.append(name)
        elif isinstance(field.default, _FACTORY):
            # A fresh value per object, as __init__ makes it.
            parameters.append(f"{name}=_fz_unset")
            namespace[f"_fz_factory_{name}"] = field.default.factory
            fills += [f"    if {name} is _fz_unset:", f"        {name} = _fz_factory_{name}()"]
        else:
            parameters.append(f"{name}=_fz_default_{name}")
            namespace[f"_fz_default_{name}"] = field.default
    namespace["_fz_unset"] = _UNSET
    source = [
        f"def make({', '.join([*positional, *(['*', *keyword] if keyword else [])])}):",
        *fills,
        *("    " + line for line in body),
        "    return obj",
    ]
    exec(compile("\n".join(source), f"<ayolinx frozen {cls.__name__}>", "exec"), namespace)  # noqa: S102
    make: Callable[..., Any] = namespace["make"]
    make.__doc__ = f"Build a {cls.__qualname__} (as calling it would)."
    return make


#: "Not given" for a factory default (``None`` may be a real value).
_UNSET = object()

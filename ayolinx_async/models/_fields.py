"""Wire fields declared once: an attrs field's ``metadata=wire(...)`` names its wire key, how
a received value is parsed and how a sent value is rendered. ``render_wire`` (requests),
``read_wire`` (responses, callbacks) and ``known_names`` (what ``extra`` leaves out) read it.

A wire path is a key (``"amount"``) or a key inside a nested object
(``"additionalInfo.channel"``); a field may list several paths, tried in order when reading.
Fields are rendered in declaration order, so the declaration is also the wire order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = [
    "Parse",
    "Render",
    "Unreadable",
    "WireSpec",
    "known_names",
    "nested_keys",
    "read_wire",
    "render_wire",
    "wire",
]

#: Reads one received value; total, or raises :class:`Unreadable` for a strict field.
Parse = Callable[[Any], Any]
#: ``(model, attribute, value)`` like an attrs validator; ``None`` means "not sent".
Render = Callable[[Any, "attrs.Attribute[Any]", Any], Any]

_KEY = "ayolinx_wire"


class Unreadable(ValueError):
    """A strict parser's refusal; :func:`read_wire` fills in ``field`` (the wire path)."""

    def __init__(self, reason: str = "bad_field", *, suffix: str = "", field: str = "") -> None:
        super().__init__(f"{field}{suffix}: {reason}")
        self.reason = reason
        self.suffix = suffix
        self.field = field


@attrs.frozen(slots=True)
class WireSpec:
    """Where a field lives on the wire and how it is read and written."""

    paths: tuple[tuple[str, ...], ...]
    parse: Parse | None
    render: Render | None
    #: The keys the field sets inside nested objects: ``{"additionalInfo": ("channel",)}``.
    nested: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, eq=False)

    @property
    def top_level(self) -> frozenset[str]:
        return frozenset(path[0] for path in self.paths)


def wire(*paths: str, parse: Parse | None = None, render: Render | None = None) -> dict[str, Any]:
    """attrs ``metadata`` declaring a wire field: ``attrs.field(metadata=wire("qrContent"))``."""
    split = tuple(tuple(p.split(".")) for p in paths)
    nested: dict[str, tuple[str, ...]] = {}
    for head, *rest in split:
        if rest:
            nested[head] = (*nested.get(head, ()), rest[0])
    return {_KEY: WireSpec(split, parse, render, nested)}


_Specs = tuple[tuple["attrs.Attribute[Any]", WireSpec], ...]
_SPECS: dict[type, _Specs] = {}


def _specs(cls: type) -> _Specs:
    """The wire fields of ``cls`` in declaration order (classes do not change: cached)."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = _SPECS[cls] = tuple(
            (attribute, attribute.metadata[_KEY])
            for attribute in attrs.fields(cls)
            if isinstance(attribute.metadata.get(_KEY), WireSpec)
        )
    return specs


def nested_keys(attribute: attrs.Attribute[Any]) -> Mapping[str, tuple[str, ...]]:
    """The keys a field sets inside nested objects: ``{"additionalInfo": ("channel",)}``."""
    spec = attribute.metadata.get(_KEY)
    return spec.nested if isinstance(spec, WireSpec) else {}


_KNOWN: dict[type, frozenset[str]] = {}


def known_names(cls: type) -> frozenset[str]:
    """The top-level wire keys ``cls`` models (everything else goes to ``extra``). Cached:
    classes do not change."""
    known = _KNOWN.get(cls)
    if known is None:
        known = _KNOWN[cls] = frozenset(n for _, spec in _specs(cls) for n in spec.top_level)
    return known


def render_wire(model: object) -> dict[str, Any]:
    """The request body of ``model``: its wire fields in declaration order, ``None`` left out.

    Nested fields (``additionalInfo.channel``) lead the object of that name, whose own field
    (the caller's extra keys) follows them.
    """
    body: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for attribute, spec in _specs(type(model)):
        value = getattr(model, attribute.name)
        rendered = spec.render(model, attribute, value) if spec.render is not None else value
        if rendered is None:
            continue
        head, *rest = spec.paths[0]
        if rest:
            nested.setdefault(head, {})[rest[0]] = rendered
        elif isinstance(rendered, Mapping):
            body[head] = {**nested.pop(head, {}), **rendered}
        else:
            body[head] = rendered
    body.update(nested)
    return body


def read_wire(cls: type, body: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments for the wire fields of ``cls`` read from ``body``: each path in
    turn, the first truthy parse wins. A strict parser's :class:`Unreadable` names its path."""
    values: dict[str, Any] = {}
    simple, general = _reader(cls)
    if type(body) is dict:
        # Fields with one top-level key (most of them): a dict lookup and the parser, if sent.
        get = body.get
        for name, parse, key, none_is_none in simple:
            raw = get(key)
            if raw is None and none_is_none:
                values[name] = None
                continue
            try:
                values[name] = parse(raw)
            except Unreadable as exc:
                raise Unreadable(exc.reason, suffix=exc.suffix, field=key) from None
    else:
        general = _reader_general(cls)
    plain = type(body) is dict
    for name, parse, paths, none_is_none in general:
        value = None
        for path in paths:
            if plain and len(path) == 2:  # ``additionalInfo.x``: the common nested case, inline
                inner = body.get(path[0])
                raw = inner.get(path[1]) if type(inner) is dict else _lookup(body, path)
            else:
                raw = _lookup(body, path)
            if raw is None and none_is_none:
                value = None  # what the parser would return, without calling it
                continue
            try:
                value = parse(raw)
            except Unreadable as exc:
                raise Unreadable(exc.reason, suffix=exc.suffix, field=".".join(path)) from None
            if value:
                break
        values[name] = value
    return values


_Simple = tuple[tuple[str, Parse, str, bool], ...]
_General = tuple[tuple[str, Parse, tuple[tuple[str, ...], ...], bool], ...]
_READERS: dict[type, tuple[_Simple, _General]] = {}
_GENERAL: dict[type, _General] = {}


def _reader_general(cls: type) -> _General:
    """Every wire field of ``cls`` as paths to try (a body that is not a plain dict)."""
    general = _GENERAL.get(cls)
    if general is None:
        general = _GENERAL[cls] = tuple(
            (attribute.name, spec.parse or _as_sent, spec.paths, _none_is_none(spec.parse))
            for attribute, spec in _specs(cls)
        )
    return general


def _reader(cls: type) -> tuple[_Simple, _General]:
    """Per class, once: the single-key fields and the others, each with its parser and whether
    that parser maps a missing value to ``None`` (then a missing value skips the call: most
    optional fields of a response or callback are absent, issue 15)."""
    reader = _READERS.get(cls)
    if reader is None:
        everything = _reader_general(cls)
        simple = tuple(
            (name, parse, paths[0][0], none_is_none)
            for name, parse, paths, none_is_none in everything
            if len(paths) == 1 and len(paths[0]) == 1
        )
        general = tuple(
            entry for entry in everything if not (len(entry[2]) == 1 and len(entry[2][0]) == 1)
        )
        reader = _READERS[cls] = (simple, general)
    return reader


def _none_is_none(parse: Parse | None) -> bool:
    if parse is None:
        return True
    try:
        return parse(None) is None
    except Exception:
        return False  # a strict parser refuses a missing value: always call it


def _lookup(body: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = body
    for key in path:
        # Decoded JSON objects are dicts: skip the (slow) ABC check for them.
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _as_sent(value: object) -> object:
    return value

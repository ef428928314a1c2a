"""Wire fields declared once: an attrs field's ``metadata=wire(...)`` names its wire key, how
a received value is parsed and how a sent value is rendered. ``render_wire`` (requests),
``read_wire`` (responses, callbacks) and ``known_names`` (what ``extra`` leaves out) read it.

A wire path is a key (``"amount"``) or a key inside a nested object
(``"additionalInfo.channel"``); a field may list several paths, tried in order when reading.
Fields are rendered in declaration order, so the declaration is also the wire order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

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
_P = TypeVar("_P", bound=Parse)
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
    cls = type(model)
    renderer = _RENDERERS.get(cls)
    if renderer is None:
        renderer = _RENDERERS[cls] = _compile_renderer(_specs(cls))
    return renderer(model)


_RENDERERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
#: Rendered values that are never a mapping (skips the ABC check for them).
_SCALARS = frozenset({str, int, float, bool, list})
#: Rendered values that are always a mapping: ``isinstance(proxy, Mapping)`` is not cached
#: by the ABC machinery for ``mappingproxy`` (about 0.2 µs each time).
_MAPPINGS = frozenset({dict, MappingProxyType})


def _compile_renderer(specs: _Specs) -> Callable[[Any], dict[str, Any]]:
    """Per class, once: :func:`render_wire` as straight-line code. A mapping rendered under a
    key that nested fields also fill is merged after them; a mapping is sent as a plain dict."""
    namespace: dict[str, Any] = {"Mapping": Mapping, "_SCALARS": _SCALARS, "_MAPPINGS": _MAPPINGS}
    lines = ["def render(model):", "    body = {}", "    nested = {}"]
    for index, (attribute, spec) in enumerate(specs):
        namespace[f"r{index}"], namespace[f"a{index}"] = spec.render, attribute
        read = f"model.{attribute.name}"
        if spec.render is not None:
            read = f"r{index}(model, a{index}, {read})"
        lines.append(f"    v = {read}")
        head, *rest = spec.paths[0]
        if rest:
            target = f"nested.setdefault({head!r}, {{}})[{rest[0]!r}]"
            lines.append(f"    if v is not None: {target} = v")
            continue
        lines += [
            "    if v is not None:",
            "        if type(v) in _SCALARS:",
            f"            body[{head!r}] = v",
            "        elif type(v) in _MAPPINGS or isinstance(v, Mapping):",
            # Usually empty (no extra additionalInfo keys): merging a mappingproxy, even an
            # empty one, takes the slow generic path (~3k instructions).
            f"            body[{head!r}] = {{**nested.pop({head!r}, {{}}), **v}} if v"
            f" else nested.pop({head!r}, {{}})",
            "        else:",
            f"            body[{head!r}] = v",
        ]
    lines += ["    body.update(nested)", "    return body"]
    return compile_function(lines, namespace)


def read_wire(cls: type, body: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments for the wire fields of ``cls`` read from ``body``: each path in
    turn, the first truthy parse wins. A strict parser's :class:`Unreadable` names its path."""
    if type(body) is dict:
        return _compiled_reader(cls)(body)
    values: dict[str, Any] = {}
    for name, parse, paths, none_is_none in reader_fields(cls):
        values[name] = _first(body, parse, paths, none_is_none)
    return values


def _first(
    body: Mapping[str, Any],
    parse: Parse,
    paths: tuple[tuple[str, ...], ...],
    none_is_none: bool,
) -> Any:
    """One field read the general way: each path in turn, the first truthy parse wins."""
    value = None
    for path in paths:
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
    return value


_General = tuple[tuple[str, Parse, tuple[tuple[str, ...], ...], bool], ...]
_GENERAL: dict[type, _General] = {}
_COMPILED: dict[type, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def reader_fields(cls: type) -> _General:
    """Every wire field of ``cls`` as paths to try, with its parser and whether that parser
    maps a missing value to ``None`` (then a missing value skips the call: most optional
    fields of a response or callback are absent)."""
    general = _GENERAL.get(cls)
    if general is None:
        general = _GENERAL[cls] = tuple(
            (attribute.name, spec.parse or _as_sent, spec.paths, _none_is_none(spec.parse))
            for attribute, spec in _specs(cls)
        )
    return general


def _compiled_reader(cls: type) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Per class, once: :func:`read_wire` for a decoded JSON object as straight-line code (the
    way attrs writes ``__init__``), since every typed response and callback pays for it."""
    reader = _COMPILED.get(cls)
    if reader is None:
        reader = _COMPILED[cls] = _compile(reader_fields(cls))
    return reader


def _compile(fields: _General) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """:func:`read_wire` for ``fields`` as one function returning the constructor arguments."""
    lines, namespace, values = reader_lines(fields)
    pairs = ", ".join(f"{name!r}: {value}" for name, value in values)
    return compile_function(["def read(body):", *lines, "    return {" + pairs + "}"], namespace)


def reader_lines(
    fields: _General,
) -> tuple[list[str], dict[str, Any], list[tuple[str, str]]]:
    """Straight-line source reading ``fields`` from a dict named ``body`` into local variables:
    the lines (indented for a function body), their globals, and ``(field, variable)`` pairs.

    A key is read with ``get``, each nested object once (``additionalInfo``), and a field with
    several paths tries them in turn like :func:`_first`. A parser registered with
    :func:`exact_strings` answers the usual string from its table (or as itself) without a call.
    The lines assign the locals ``get``, ``raw``, ``exc``, ``n0``… and ``v0``…: a function built
    around them names its own parameters otherwise.
    """
    namespace: dict[str, Any] = {"Unreadable": Unreadable, "_lookup": _lookup}
    lines = ["    get = body.get"]
    heads: dict[str, str] = {}
    for _, _, paths, _ in fields:
        for path in paths:
            if len(path) == 2 and path[0] not in heads:
                heads[path[0]] = f"n{len(heads)}"
                lines.append(f"    {heads[path[0]]} = get({path[0]!r})")
    values = []
    for index, (name, parse, paths, none_is_none) in enumerate(fields):
        namespace[f"p{index}"] = parse
        value = f"v{index}"
        values.append((name, value))
        indent = "    "
        for tried, path in enumerate(paths):
            namespace[f"path{index}_{tried}"] = path
            if tried:
                lines.append(f"{indent}if not {value}:")
                indent += "    "
            if len(path) == 1:
                lines.append(f"{indent}raw = get({path[0]!r})")
            elif len(path) == 2:
                inner = heads[path[0]]
                lines.append(
                    f"{indent}raw = {inner}.get({path[1]!r}) if type({inner}) is dict"
                    f" else _lookup(body, path{index}_{tried})"
                )
            else:
                lines.append(f"{indent}raw = _lookup(body, path{index}_{tried})")
            call = f"p{index}(raw)"
            if none_is_none:
                call = f"None if raw is None else {call}"
            if parse in _EXACT:
                table = _EXACT[parse]
                if table is None:
                    call = f"raw if type(raw) is str else ({call})"
                else:
                    namespace[f"t{index}"] = table()
                    lines.append(
                        f"{indent}{value} = t{index}.get(raw) if type(raw) is str else None"
                    )
                    lines.append(f"{indent}if {value} is None:")
                    indent += "    "
            lines.append(f"{indent}try:")
            lines.append(f"{indent}    {value} = {call}")
            lines.append(f"{indent}except Unreadable as exc:")
            lines.append(
                f"{indent}    raise Unreadable(exc.reason, suffix=exc.suffix,"
                f" field={'.'.join(path)!r}) from None"
            )
            if parse in _EXACT and _EXACT[parse] is not None:
                indent = indent[:-4]
    return lines, namespace, values


def keyword_arguments(values: list[tuple[str, str]], envelope: Mapping[str, str]) -> dict[str, str]:
    """A constructor's arguments (name → expression) from :func:`reader_lines`' pairs and the
    ``envelope`` a builder passes itself, which wins over a wire field of the same name (as
    when the values were a dict the envelope was written into last)."""
    return {**{name: value for name, value in values if name not in envelope}, **envelope}


#: Parsers with answers known for exact strings: the table (built on first compile), or
#: ``None`` when a string is its own answer. Filled by :func:`exact_strings`.
_EXACT: dict[Parse, Callable[[], Mapping[str, Any]] | None] = {}


def exact_strings(
    table: Callable[[], Mapping[str, Any]] | None = None,
) -> Callable[[_P], _P]:
    """Declare that a parser returns ``table()[text]`` for a string in the table (``None``:
    returns any string unchanged), so compiled readers answer it without calling the parser.
    The parser must agree; the tests hold each one to it."""

    def register(parse: _P) -> _P:
        _EXACT[parse] = table
        return parse

    return register


def compile_function(lines: list[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    """The one function ``lines`` define, compiled with ``namespace`` as its globals."""
    exec(compile("\n".join(lines), "<ayolinx wire fields>", "exec"), namespace)  # noqa: S102
    name = lines[0].removeprefix("def ").partition("(")[0]
    function: Callable[..., dict[str, Any]] = namespace[name]
    return function


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

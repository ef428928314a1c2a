"""Request-side validators and converters: every refusal is a ``ValidationError`` naming the
field, raised before anything is sent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal, Self, TypeAlias

import attrs

from .._errors import ValidationError
from ._enums import Channel, UrlParamType

__all__ = [
    "TextKind",
    "UrlParam",
    "check_text",
    "instance_field",
    "optional_text_field",
    "render_code",
    "render_url_params",
    "text_field",
    "to_additional_info",
    "to_channel",
    "to_url_params",
]


@attrs.frozen(kw_only=True, slots=True)
class UrlParam:
    """One ``urlParams`` entry: a callback URL (NOTIFICATION) or browser return URL."""

    url: str
    type: UrlParamType = UrlParamType.NOTIFICATION

    def to_wire(self) -> dict[str, str]:
        return {"url": self.url, "type": str(self.type)}

    @classmethod
    def notification(cls, url: str) -> Self:
        return cls(url=url, type=UrlParamType.NOTIFICATION)

    @classmethod
    def pay_return(cls, url: str) -> Self:
        return cls(url=url, type=UrlParamType.PAY_RETURN)


#: The character rules :func:`check_text` knows.
TextKind: TypeAlias = Literal["text", "reference", "email", "phone", "digits", "url"]
_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Each kind's pattern and the rule it states. References travel in headers, URLs and callbacks:
#: visible ASCII only, no spaces.
_TEXT_RULES: dict[TextKind, tuple[re.Pattern[str] | None, str]] = {
    "text": (None, ""),
    "reference": (re.compile(r"^[\x21-\x7e]+$"), "must be visible ASCII without spaces"),
    "email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "must be an e-mail address"),
    "phone": (re.compile(r"^\+?[0-9]+$"), "must be digits, optionally after a leading '+'"),
    "digits": (re.compile(r"^[0-9]+$"), "must be digits only"),
    "url": (re.compile(r"^https?://[^\s]+$"), "must be an http(s) URL without spaces"),
}

#: Kinds whose pattern alone implies every rule (non-blank, no control characters): a value
#: it matches whole needs no further checks.
_PLAIN_RULES: dict[str, re.Pattern[str]] = {
    kind: pattern
    for kind, (pattern, _) in _TEXT_RULES.items()
    if pattern is not None and kind in ("reference", "digits", "phone")
}


def check_text(value: object, *, field: str, max_length: int, kind: TextKind = "text") -> str:
    """Validate one request string: a ``str``, not blank, no control characters, at most
    ``max_length`` characters (SNAP lengths, docs/protocol.md §17.6) and matching
    ``kind``'s pattern."""
    if type(value) is str and len(value) <= max_length:
        plain = _PLAIN_RULES.get(kind)
        if plain is not None and plain.fullmatch(value):
            return value  # the usual case: the rules below would all pass
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValidationError(field, "is required and must not be blank")
    if _CONTROL.search(value):
        raise ValidationError(field, "must not contain control characters")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters (got {len(value)})")
    pattern, rule = _TEXT_RULES[kind]
    if pattern is not None and not pattern.match(value):
        raise ValidationError(field, rule)
    return value


def text_field(max_length: int, *, kind: TextKind = "text") -> _Validator:
    """An attrs validator for a required string field (the error names the field)."""

    def _validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_text(value, field=attribute.name, max_length=max_length, kind=kind)

    return _validate


def optional_text_field(max_length: int, *, kind: TextKind = "text") -> _Validator:
    """Like :func:`text_field`, but ``None`` (meaning "do not send") is allowed."""
    required = text_field(max_length, kind=kind)

    def _validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            required(instance, attribute, value)

    return _validate


def instance_field(kind: type, *, optional: bool = False) -> _Validator:
    """attrs validator: an instance of ``kind`` (or ``None`` if ``optional``), as a
    ``ValidationError`` naming the field rather than attrs' ``TypeError``."""

    def _validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            raise ValidationError(
                attribute.name, f"must be a {kind.__name__}, not {type(value).__name__}"
            )

    return _validate


def to_channel(value: Channel | str) -> Channel:
    """attrs converter for ``channel``: any non-blank code, known or not (open enum)."""
    if type(value) is Channel and value._name_ != "UNKNOWN":
        return value  # a member, e.g. the default: hashing it would call Enum's __hash__
    if isinstance(value, str):
        known = Channel.known(value)
        if known is not None:
            return known  # a known code is valid by definition
    check_text(value, field="channel", max_length=64, kind="reference")
    return Channel(value)


def to_url_params(value: Iterable[UrlParam]) -> tuple[UrlParam, ...]:
    """attrs converter for ``url_params``: a tuple of :class:`UrlParam` with http(s) URLs."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("url_params", "must be a sequence of UrlParam")
    params = tuple(value)
    for index, param in enumerate(params):
        if not isinstance(param, UrlParam):
            raise ValidationError(f"url_params[{index}]", "must be a UrlParam")
        check_text(param.url, field=f"url_params[{index}].url", max_length=512, kind="url")
        check_text(param.type, field=f"url_params[{index}].type", max_length=32)
    return params


_NO_INFO: Mapping[str, Any] = MappingProxyType({})


def to_additional_info(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """attrs converter for extra ``additionalInfo`` keys: a read-only copy of a JSON object."""
    if value is None or value is _NO_INFO or (type(value) is dict and not value):
        return _NO_INFO
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValidationError("additional_info", "must be a mapping with string keys")
    copied = dict(value)  # also a read-only mapping, e.g. a model's own (attrs.evolve)
    try:
        json.dumps(copied, allow_nan=False)
    except (TypeError, ValueError):
        raise ValidationError("additional_info", "must be JSON-serialisable") from None
    return MappingProxyType(copied)


def render_url_params(
    _: Any, __: attrs.Attribute[Any], value: tuple[UrlParam, ...]
) -> list[dict[str, str]] | None:
    """Wire renderer for ``urlParams``: left out when empty."""
    return [param.to_wire() for param in value] if value else None


def render_code(_: Any, __: attrs.Attribute[Any], value: object) -> str | None:
    """Wire renderer for an enum code (``Channel``, trx type …) as its plain string."""
    return str(value) if value is not None else None

"""What every request body shares: ``additionalInfo`` closes with the caller's extra keys after
the fields a model nests in it (``channel`` …), and status queries lead with your reference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._errors import ValidationError
from ._checks import optional_text_field, render_code, text_field, to_additional_info
from ._fields import nested_keys, render_wire, wire

__all__ = ["CHANNEL_WIRE", "ReferencedStatusQuery", "StatusQuery", "WireRequest", "info_last"]

#: ``metadata`` of every request's ``channel`` field: the code inside ``additionalInfo``.
CHANNEL_WIRE = wire("additionalInfo.channel", render=render_code)

_INFO = "additionalInfo"


def info_last(_: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """attrs ``field_transformer`` for a :class:`WireRequest` subclass: ``additional_info``
    right after the last field nested in ``additionalInfo``, so the constructor, ``repr`` and
    wire order read as the subclass declares them."""
    info = next(f for f in fields if f.name == "additional_info")
    rest = [f for f in fields if f is not info]
    nested = [i for i, f in enumerate(rest) if _INFO in nested_keys(f)]
    at = nested[-1] + 1 if nested else len(rest)
    return [*rest[:at], info, *rest[at:]]


def _no_nested_keys(model: Any, attribute: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    """Extra ``additionalInfo`` keys must not shadow a key a dedicated argument sets (``channel``
    …); refusing is clearer than letting one silently win."""
    if not value:
        return
    for name in _info_keys(type(model)):
        if name in value:
            raise ValidationError(
                f"{attribute.name}.{name}", "is set by its own argument; use that instead"
            )


_INFO_KEYS: dict[type, tuple[str, ...]] = {}


def _info_keys(cls: type) -> tuple[str, ...]:
    """The ``additionalInfo`` keys that ``cls``'s own fields set (classes do not change)."""
    keys = _INFO_KEYS.get(cls)
    if keys is None:
        keys = _INFO_KEYS[cls] = tuple(
            name for field in attrs.fields(cls) for name in nested_keys(field).get(_INFO, ())
        )
    return keys


@attrs.frozen(kw_only=True, slots=True)
class WireRequest:
    """A request model: its wire fields rendered in declaration order by :meth:`to_wire`."""

    additional_info: Mapping[str, Any] = attrs.field(
        factory=dict,
        converter=to_additional_info,
        validator=_no_nested_keys,
        metadata=wire(_INFO),
    )

    def to_wire(self) -> dict[str, Any]:
        """The request body, fields in declaration (wire) order."""
        return render_wire(self)


@attrs.frozen(kw_only=True, slots=True)
class StatusQuery(WireRequest):
    """A status query keyed on your ``partnerReferenceNo``; a subclass declares ``channel``."""

    original_partner_reference_no: str = attrs.field(
        validator=text_field(64, kind="reference"), metadata=wire("originalPartnerReferenceNo")
    )


@attrs.frozen(kw_only=True, slots=True)
class ReferencedStatusQuery(StatusQuery):
    """A status query that may also name Ayolinx's reference (``originalReferenceNo``)."""

    original_reference_no: str | None = attrs.field(
        default=None,
        validator=optional_text_field(64, kind="reference"),
        metadata=wire("originalReferenceNo"),
    )

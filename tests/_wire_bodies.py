"""Hypothesis strategies for decoded bodies a model or event reads: its own wire keys (nested
ones inside their object) and unknown ones, holding real shapes, near misses and hostile values.
Shared by the tests that hold compiled readers to the general path."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

from ayolinx_async.models._fields import _specs

#: What a field may hold on the wire.
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "00",
            "01",
            "06",
            "99",
            " 00",
            "",
            " ",
            "²",
            "A1REF1",
            "REF\u00e9",
            "BNC_QRIS",
            "bnc_qris",
            "EMONEY_DANA_SNAP ",
            "IDR",
            "2024-09-18T13:40:00+07:00",
            "2024-09-18T13:40:00-03:30",
            "2024-09-18T13:40:00 07:00",
            "2024-09-18T13:40:00+0700 ",
            "\uff12024-09-18T13:40:00+07:00",
            "2024-09-18T13:40:00.1234Z",
            "9999-12-31T23:59:59+23:59",
            "0000-09-18T13:40:00+07:00",
            "1726641600",
            "10000.00",
            "25.000",
        ]
    ),
    st.text(max_size=30),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["value", "currency", "channel", "RRN", "x"]), inner, max_size=4
        )
    ),
    max_leaves=8,
)


def wire_keys(cls: type) -> list[str]:
    """Every key ``cls`` reads, nested ones dotted (``additionalInfo.channel``), plus an
    unknown top-level and an unknown nested key."""
    keys = {".".join(path) for _, spec in _specs(cls) for path in spec.paths}
    return sorted(keys | {"unknownTop", "additionalInfo.unknownInner"})


@st.composite
def bodies(draw: st.DrawFn, cls: type, start: dict[str, Any] | None = None) -> dict[str, Any]:
    """A decoded JSON object for ``cls``: ``start`` and then some of its keys, each holding a
    drawn value (a nested key only while its object is still an object)."""
    body: dict[str, Any] = dict(start or {})
    for key in draw(st.lists(st.sampled_from(wire_keys(cls)), max_size=14)):
        head, _, rest = key.partition(".")
        value = draw(VALUES)
        if rest:
            inner = body.setdefault(head, {})
            if isinstance(inner, dict):
                inner[rest] = value
        else:
            body[head] = value
    return body


def fields_text(instance: Any, *, leave_out: str = "") -> str:
    """Every attrs field with its type, as text (NaN compares equal this way)."""
    return repr(
        [
            (field.name, type(getattr(instance, field.name)), getattr(instance, field.name))
            for field in attrs.fields(type(instance))
            if field.name != leave_out
        ]
    )

"""Values that hold secrets but never show them: crash reporters (Sentry and friends) and
``traceback.TracebackException(..., capture_locals=True)`` print every local's ``repr``.

``Secret`` is a ``str`` (so it signs, compares and concatenates as usual) whose ``repr`` and
formatting in tracebacks is redacted; ``RedactedHeaders`` is a ``dict`` of request
headers whose ``repr`` shows only the allow-listed ones.
"""

from __future__ import annotations

from typing import Any

from ._log import SAFE_HEADERS

__all__ = ["REDACTED", "RedactedHeaders", "Secret", "SecretBytes", "hide", "reveal"]

REDACTED = "<redacted>"


class Secret(str):
    """A secret string (token, signature, string-to-sign) with a redacted ``repr``.

    It is still a ``str``: ``secret == "abc"``, ``"Bearer " + secret`` and ``.encode()`` work,
    so code that needs the value has it; only display is redacted. ``str(secret)`` returns a
    plain ``str`` with the value (use :func:`reveal` to say so explicitly).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Secret({REDACTED}, len={len(self)})"

    def __str__(self) -> str:
        return str.__str__(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (str.__str__(self),))


class SecretBytes(bytes):
    """Secret bytes (key material, a password) with a redacted ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SecretBytes({REDACTED}, len={len(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SecretBytes, (bytes(self),))


def hide(value: Any) -> Any:
    """``value`` as a :class:`Secret`/:class:`SecretBytes` when it is text or bytes, so a frame
    that holds it (a parameter rebound to this) shows nothing in a crash report."""
    if isinstance(value, str) and not isinstance(value, Secret):
        return Secret(value)
    if isinstance(value, bytes | bytearray) and not isinstance(value, SecretBytes):
        return SecretBytes(value)
    return value


def reveal(value: str) -> str:
    """The plain ``str`` inside a :class:`Secret` (or ``value`` unchanged)."""
    return str.__str__(value)


class RedactedHeaders(dict[str, str]):
    """Request headers whose ``repr`` shows the allow-listed ones only (the rest redacted)."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {
            key: (value if key.lower() in SAFE_HEADERS else REDACTED) for key, value in self.items()
        }
        return f"RedactedHeaders({shown!r})"

"""Observability for the services that run the SDK: OpenTelemetry traces and metrics
(``[otel]`` extra), off unless ``telemetry=True`` or ``AYOLINX_OTEL=1``.

Switched off, the SDK holds ``None`` instead of a :class:`~._otel.Telemetry` and every
instrumented place costs one ``is None`` check; OpenTelemetry is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError

if TYPE_CHECKING:
    from ._otel import CallbackTrace, CallTrace, RefreshTrace, Telemetry

__all__ = [
    "ENV_SWITCH",
    "CallTrace",
    "CallbackTrace",
    "RefreshTrace",
    "Telemetry",
    "build_telemetry",
    "telemetry_wanted",
]

#: The environment switch: ``1``/``true``/``yes``/``on`` turns telemetry on by default.
ENV_SWITCH = "AYOLINX_OTEL"
_TRUE = frozenset({"1", "true", "yes", "on"})


def telemetry_wanted(setting: bool | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether telemetry is on: an explicit ``telemetry=`` wins, else ``AYOLINX_OTEL``."""
    if setting is None:
        value = (os.environ if environ is None else environ).get(ENV_SWITCH, "")
        return value.strip().lower() in _TRUE
    if not isinstance(setting, bool):
        raise ConfigurationError("telemetry must be True, False or None (read AYOLINX_OTEL)")
    return setting


def build_telemetry(
    setting: bool | None,
    *,
    base_url: str = "",
    tracer_provider: Any = None,
    meter_provider: Any = None,
    propagate_context: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Telemetry | None:
    """The :class:`Telemetry` of a client or handler, or ``None`` when telemetry is off.

    ``tracer_provider``/``meter_provider`` default to OpenTelemetry's global providers."""
    if not telemetry_wanted(setting, environ):
        return None
    try:
        from ._otel import Telemetry
    except ImportError:
        raise ConfigurationError(
            "telemetry needs OpenTelemetry: pip install 'ayolinx-async[otel]'"
            f" (or unset {ENV_SWITCH})"
        ) from None
    return Telemetry(
        base_url=base_url,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        propagate_context=bool(propagate_context),
    )

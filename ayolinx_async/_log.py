"""The SDK's logger: silent by default, switched on by ``AYOLINX_LOG=info|debug``.

Only allow-listed headers are ever logged; never bodies at info, never the string-to-sign,
token, signature, secret or key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from ._telemetry._names import operation_for

logger = logging.getLogger("ayolinx_async")
logger.addHandler(logging.NullHandler())

#: Headers that may appear in logs and hook events. Everything else is dropped.
SAFE_HEADERS = frozenset(
    {
        "content-type",
        "x-timestamp",
        "x-partner-id",
        "x-client-key",
        "x-external-id",
        "content-length",
        "retry-after",
        "date",
        "user-agent",
    }
)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Keep allow-listed headers only (names lower-cased)."""
    return {k.lower(): v for k, v in headers.items() if k.lower() in SAFE_HEADERS}


def call_fields(
    path: str, external_id: str | None, attempt: int, duration: float | None, **more: object
) -> dict[str, object]:
    """The ``extra`` of a call's log records: JSON loggers (structlog, python-json-logger) get
    these as record attributes instead of parsing the text, which stays as it was."""
    return {
        "operation": operation_for(path),
        "path": path,
        "external_id": external_id,
        "attempt": attempt,
        "duration": duration,
        **more,
    }


class _StderrUnlessTheAppLogs(logging.StreamHandler):  # type: ignore[type-arg]
    """``AYOLINX_LOG``'s stderr handler: silent while the app has configured logging itself
    (root handlers, e.g. ``logging.basicConfig``), so no line is printed twice."""

    _ayolinx_env = True

    def emit(self, record: logging.LogRecord) -> None:
        if logger.propagate and logging.getLogger().handlers:
            return  # the record reaches the app's own handlers by propagation
        super().emit(record)


def configure_from_env() -> None:
    """Honour ``AYOLINX_LOG``: set the level and add one stderr handler (idempotent) that
    stays quiet when the application configured logging itself."""
    level_name = os.environ.get("AYOLINX_LOG", "").strip().upper()
    if level_name not in {"INFO", "DEBUG"}:
        return
    logger.setLevel(level_name)
    if not any(isinstance(h, _StderrUnlessTheAppLogs) for h in logger.handlers):
        handler = _StderrUnlessTheAppLogs()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)

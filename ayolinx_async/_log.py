"""The SDK's logger: silent by default, switched on by ``AYOLINX_LOG=info|debug``.

Only allow-listed headers are ever logged; never bodies at info, never the string-to-sign,
token, signature, secret or key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

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


def configure_from_env() -> None:
    """Honour ``AYOLINX_LOG``: add one stderr handler at the given level (idempotent)."""
    level_name = os.environ.get("AYOLINX_LOG", "").strip().upper()
    if level_name not in {"INFO", "DEBUG"}:
        return
    logger.setLevel(level_name)
    if not any(getattr(h, "_ayolinx_env", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._ayolinx_env = True  # type: ignore[attr-defined]
        logger.addHandler(handler)

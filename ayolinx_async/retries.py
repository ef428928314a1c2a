"""Payment-safe retry policy (design §3 "Retries")."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

__all__ = ["RetryPolicy", "parse_retry_after"]


@attrs.frozen(kw_only=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: ``initial`` doubling up to ``maximum`` seconds.

    Read-only calls retry on connect errors, timeouts, 429 and 5xx. Money-moving calls retry only
    when the request provably never left; otherwise they raise ``OutcomeUnknownError``.
    """

    max_retries: int = 2
    initial: float = 0.5
    maximum: float = 8.0
    jitter: bool = True
    respect_retry_after: bool = True
    max_retry_after: float = 60.0

    def __attrs_post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        if retry_after is not None and self.respect_retry_after:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = min(self.maximum, self.initial * (2 ** (retry_number - 1)))
        return random.uniform(base / 2, base) if self.jitter else base


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); ``None`` if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.fromtimestamp(now, UTC)).total_seconds())

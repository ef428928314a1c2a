"""Payment-safe retries: the policy (how long to wait) and :func:`decide`, the one pure function
that says what to do after a failed attempt (docs/architecture.md §3.1)."""

from __future__ import annotations

import enum
import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

from ._errors import (
    APIError,
    AyolinxError,
    ConflictError,
    InvalidTokenError,
    RateLimitError,
    ResponseDecodeError,
    ResponseError,
    ServerError,
    TransportError,
)
from ._frozen import maker
from .transport._base import Timeout

#: ``Timeout(...)`` with plain slot stores: every attempt after a wait or a retry makes one.
_new_timeout = maker(Timeout)

__all__ = [
    "Action",
    "Decision",
    "RetryPolicy",
    "coerce_timeout",
    "decide",
    "min_attempt",
    "parse_retry_after",
    "remaining_timeout",
    "retry_after_of",
]


@attrs.frozen(kw_only=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: ``initial`` doubling up to ``maximum`` seconds.

    Read-only calls retry on connect errors, timeouts, 429 and 5xx. Money-moving calls retry only
    when the request provably never left; otherwise they raise ``OutcomeUnknownError``. No wait
    is ever longer than ``max_retry_after``, and no retry starts that could not finish before
    the call's own timeout (see :func:`decide`).
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


_DELTA_SECONDS = re.compile(r"[0-9]{1,12}")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); ``None`` if absent/garbled.

    ASCII digits only: ``'²'.isdigit()`` is true but ``float('²')`` raises.
    """
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return max(0.0, (when - datetime.fromtimestamp(now, UTC)).total_seconds())
    except (OverflowError, OSError, ValueError):
        return None


class Action(enum.Enum):
    """What the call loop does after a failed attempt."""

    #: Wait ``Decision.delay`` seconds, then send again under the same X-EXTERNAL-ID.
    RETRY = "retry"
    #: Send again at once under a fresh X-EXTERNAL-ID (a read that Ayolinx saw already).
    RETRY_NEW_ID = "retry_new_id"
    #: Drop the rejected token, fetch a new one, send again (once per call).
    REFRESH_TOKEN = "refresh_token"
    #: A money-moving request may have acted: raise ``OutcomeUnknownError``.
    OUTCOME_UNKNOWN = "outcome_unknown"
    #: Raise the error as it is.
    RAISE = "raise"


@attrs.frozen(slots=True)
class Decision:
    action: Action
    delay: float = 0.0
    #: Why, in a few words (logged, and shown in the decision table tests).
    reason: str = ""


def decide(
    error: AyolinxError,
    *,
    money_moving: bool,
    token_obtained: bool,
    retries: int,
    id_attempts: int,
    token_refreshed: bool,
    policy: RetryPolicy,
    retry_after: float | None = None,
    now: float = 0.0,
    deadline: float | None = None,
    min_attempt: float = 0.0,
) -> Decision:
    """The retry decision for one failed attempt, with no I/O (the call loop acts on it).

    ``token_obtained`` is False when the token request itself failed (so the service request
    was never sent); ``retries`` counts the waits already spent; ``id_attempts`` the attempts
    sent under the current X-EXTERNAL-ID. A retry that could not start with at least
    ``min_attempt`` seconds left before ``deadline`` is not made: the error is raised now.
    """
    if isinstance(error, InvalidTokenError) and token_obtained:
        # 401xx01: the token was revoked or expired early. Refresh once, retry once.
        if token_refreshed:
            return Decision(Action.RAISE, reason="token rejected twice")
        return Decision(Action.REFRESH_TOKEN, reason="token rejected")
    if not token_obtained:
        if is_transient(error):
            return _wait(policy, retries, retry_after, now, deadline, min_attempt, "token call")
        return Decision(Action.RAISE, reason="token call failed")
    if money_moving:
        if isinstance(error, TransportError) and not error.request_sent:
            return _wait(policy, retries, None, now, deadline, min_attempt, "never sent")
        # A 409xx00 on a re-send means an earlier attempt did reach Ayolinx.
        if maybe_acted(error) or (id_attempts > 1 and is_duplicate_external_id(error)):
            return Decision(Action.OUTCOME_UNKNOWN, reason="may have acted")
        return Decision(Action.RAISE, reason="refused")
    if id_attempts > 1 and is_duplicate_external_id(error):
        # An earlier attempt reached Ayolinx, which refuses an X-EXTERNAL-ID seen today
        # (SNAP 409xx00). A read is safe to repeat under a fresh id.
        return Decision(Action.RETRY_NEW_ID, reason="X-EXTERNAL-ID already seen")
    if is_transient(error):
        return _wait(policy, retries, retry_after, now, deadline, min_attempt, "transient")
    return Decision(Action.RAISE, reason="not retryable")


def _wait(
    policy: RetryPolicy,
    retries: int,
    retry_after: float | None,
    now: float,
    deadline: float | None,
    min_attempt: float,
    why: str,
) -> Decision:
    if retries >= policy.max_retries:
        return Decision(Action.RAISE, reason=f"{why}: retries exhausted")
    delay = policy.delay(retries + 1, retry_after)
    if deadline is not None and now + delay + min_attempt > deadline:
        return Decision(Action.RAISE, reason=f"{why}: next attempt would pass the deadline")
    return Decision(Action.RETRY, delay=delay, reason=why)


def http_status_of(error: AyolinxError) -> int | None:
    """The HTTP status an error stands for: the SNAP code's own status wins."""
    if isinstance(error, APIError):
        code = error.response_code
        return code.http_status if code is not None and code.http_status else error.http_status
    if isinstance(error, ResponseDecodeError):
        return error.http_status
    return None


def is_transient(error: AyolinxError) -> bool:
    """Worth retrying for a call that is safe to repeat: network trouble, 429, 5xx."""
    if isinstance(error, TransportError | RateLimitError | ServerError):
        return True
    status = http_status_of(error)
    return isinstance(error, ResponseDecodeError) and status is not None and status >= 500


def maybe_acted(error: AyolinxError) -> bool:
    """Could the server have acted on a money-moving request that produced ``error``?"""
    if isinstance(error, TransportError):
        return error.request_sent
    if isinstance(error, ServerError):
        return True
    if isinstance(error, ResponseDecodeError):
        return error.http_status >= 500 or 200 <= error.http_status < 300
    # 202xx00 "request in progress" (docs/protocol.md §12.2): accepted, not finished.
    status = http_status_of(error)
    return status is not None and 200 <= status < 300


def is_duplicate_external_id(error: AyolinxError) -> bool:
    """409 case 00: Ayolinx has already seen this X-EXTERNAL-ID today."""
    return isinstance(error, ConflictError) and error.case_code == "00"


# -- deadlines: a call never outlives its own timeout -------------------------------------------


def coerce_timeout(timeout: Timeout | float | None) -> Timeout:
    """A ``Timeout`` from seconds (connect capped at 5 s), a ``Timeout`` or ``None`` (default)."""
    if timeout is None:
        return Timeout()
    if isinstance(timeout, Timeout):
        return timeout
    return Timeout(connect=min(5.0, float(timeout)), total=float(timeout))


def remaining_timeout(timeout: Timeout, deadline: float, now: float) -> Timeout:
    """The attempt's timeout: the call's, cut to what is left before its deadline."""
    left = deadline - now
    if left >= timeout.total:
        return timeout
    left = max(left, 0.001)
    return _new_timeout(connect=min(timeout.connect, left), total=left)


def min_attempt(timeout: Timeout) -> float:
    """The least time worth starting a retry with: a sliver of a budget only turns a clean
    failure into an ambiguous timeout."""
    return min(1.0, timeout.total / 4)


def retry_after_of(error: AyolinxError, now: float) -> float | None:
    """The server's ``Retry-After`` in seconds, also recorded on the error for the caller."""
    if not isinstance(error, ResponseError):
        return None
    error.retry_after = parse_retry_after(error.headers.get("retry-after"), now)
    return error.retry_after

"""Fault knobs for reliability tests and benchmarks: latency, 5xx answers, dropped responses.

Random faults draw from the simulator's seeded ``random.Random``, so a seed replays the same
sequence. One-shot faults (:meth:`FaultPlan.inject`) fire deterministically on the next
matching requests.
"""

from __future__ import annotations

import enum
import math
import random
from collections import deque

import attrs

__all__ = ["SimulatorFault", "FaultPlan", "Faults"]


class SimulatorFault(enum.StrEnum):
    """What can go wrong with one request."""

    #: Answer HTTP 500 (``500xx01``) before acting: nothing is recorded.
    ERROR = "error"
    #: Act fully, then close the connection without an answer.
    DROP = "drop"


def _rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1")


#: One-shot faults queued by one call, at most (a huge count would queue itself into swap).
MAX_SHOTS = 10_000


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):  # NaN compares false both ways
        raise ValueError(f"{attribute.name} must be a finite, non-negative number")


@attrs.frozen(kw_only=True, slots=True)
class Faults:
    """Random faults applied to API requests (never to ``/_simulator/`` admin routes).

    ``latency`` seconds (plus up to ``jitter`` more) are added before every answer;
    ``error_rate`` of requests get a 5xx before anything happens; ``drop_rate`` of requests are
    processed and then left unanswered. ``paths`` limits faults to those endpoint paths;
    ``include_token`` exposes the token endpoint too. ``drop_callbacks`` of callback deliveries
    are never made at all (Ayolinx gave up on them), to show a payment tracker recovering.
    """

    latency: float = attrs.field(default=0.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.0, validator=_non_negative)
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    drop_rate: float = attrs.field(default=0.0, validator=_rate)
    paths: frozenset[str] | None = attrs.field(
        default=None, converter=attrs.converters.optional(frozenset)
    )
    include_token: bool = True
    drop_callbacks: float = attrs.field(default=0.0, validator=_rate)

    def applies_to(self, path: str, *, is_token: bool) -> bool:
        if is_token and not self.include_token:
            return False
        return self.paths is None or path in self.paths

    def to_json(self) -> dict[str, object]:
        return {
            "latency": self.latency,
            "jitter": self.jitter,
            "errorRate": self.error_rate,
            "dropRate": self.drop_rate,
            "paths": sorted(self.paths) if self.paths is not None else None,
            "includeToken": self.include_token,
            "dropCallbacks": self.drop_callbacks,
        }


@attrs.define(slots=True)
class _Shot:
    kind: SimulatorFault
    path: str | None


class FaultPlan:
    """The live fault state of one simulator: random :class:`Faults` plus queued one-shots."""

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self.faults = faults
        self._rng = rng
        self._shots: deque[_Shot] = deque()

    def inject(
        self, kind: SimulatorFault | str, *, count: int = 1, path: str | None = None
    ) -> None:
        """Make the next ``count`` requests (to ``path``, or any API path) fail as ``kind``."""
        if not 1 <= count <= MAX_SHOTS:
            raise ValueError(f"count must be between 1 and {MAX_SHOTS}")
        fault = SimulatorFault(kind)
        self._shots.extend(_Shot(kind=fault, path=path) for _ in range(count))

    def clear(self) -> None:
        self._shots.clear()

    @property
    def pending_shots(self) -> int:
        return len(self._shots)

    def delay(self, path: str, *, is_token: bool) -> float:
        """Seconds to wait before answering ``path``."""
        faults = self.faults
        if not faults.applies_to(path, is_token=is_token) or (faults.latency + faults.jitter) <= 0:
            return 0.0
        return faults.latency + (self._rng.random() * faults.jitter if faults.jitter else 0.0)

    def drops_callback(self) -> bool:
        """Whether this callback (with all its retries) is dropped by the ``drop_callbacks``
        knob: the merchant never hears about this status change from Ayolinx."""
        rate = self.faults.drop_callbacks
        return rate >= 1.0 or (rate > 0.0 and self._rng.random() < rate)

    def draw(self, path: str, *, is_token: bool) -> SimulatorFault | None:
        """Decide this request's fate: a queued one-shot first, then the random rates."""
        for shot in self._shots:
            if shot.path is None or shot.path == path:
                self._shots.remove(shot)
                return shot.kind
        faults = self.faults
        if not faults.applies_to(path, is_token=is_token):
            return None
        if faults.error_rate and self._rng.random() < faults.error_rate:
            return SimulatorFault.ERROR
        if faults.drop_rate and self._rng.random() < faults.drop_rate:
            return SimulatorFault.DROP
        return None

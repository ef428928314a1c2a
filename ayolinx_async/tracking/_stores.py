"""The tracker's store protocol and the in-memory store (one process, tests).

Every store keeps one row per payment holding its schedule, its outcome and its outbox state,
so deciding an outcome and queueing its delivery is one compare-and-set on one row: a payment
goes from pending to final at most once, whichever feed (callback, poll, deadline) gets there
first, and the outcome is in the outbox from the same instant.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from ._model import (
    Delivery,
    PaymentOutcome,
    PaymentState,
    PollSchedule,
    TrackedPayment,
    TrackerStats,
)

__all__ = ["MemoryTrackerStore", "TokenBucket", "TrackerStore", "next_poll"]


@runtime_checkable
class TrackerStore(Protocol):
    """Where tracked payments, outcomes and the outbox live. Each method is atomic."""

    async def open(self) -> None:
        """Connect and create or migrate the schema (idempotent)."""

    async def close(self) -> None: ...

    async def add(self, payment: TrackedPayment) -> bool:
        """Record a payment; False (and nothing changed) if its reference is already tracked."""

    async def find(self, key: str) -> TrackedPayment | None:
        """The payment whose reference (or alias, e.g. a payment link's id) is ``key``."""

    async def finalize(self, outcome: PaymentOutcome) -> bool:
        """Compare-and-set pending to final with ``outcome`` queued for delivery; False if the
        payment was already final (or is unknown)."""

    async def note_status(self, reference: str, status: str | None) -> None:
        """Remember the last non-final status a query reported (for ``tracker status``)."""

    async def take_tokens(self, now: float, rate: float, burst: float, want: int) -> int:
        """Take up to ``want`` tokens from the shared bucket (``rate`` per second, at most
        ``burst`` saved); returns how many were granted."""

    async def refund_tokens(self, count: int, burst: float) -> None:
        """Give back tokens taken but not used."""

    async def claim_polls(
        self, now: float, limit: int, schedule: PollSchedule
    ) -> list[TrackedPayment]:
        """Claim up to ``limit`` pending payments due at ``now``, oldest due first, moving each
        one's next poll on by its backoff (capped at its deadline) and counting the poll. The
        moved ``next_poll_at`` is the lease: no other poller can claim it before then."""

    async def claim_deliveries(
        self, now: float, limit: int, lease: float, reference: str | None = None
    ) -> list[Delivery]:
        """Claim undelivered outcomes due at ``now`` (or only ``reference``'s) for ``lease``
        seconds, counting the attempt."""

    async def listener_done(self, reference: str, name: str) -> None:
        """Record that listener ``name`` handled the outcome (it is not called again)."""

    async def delivered(self, reference: str) -> None:
        """Every listener handled the outcome: leave the outbox."""

    async def retry_delivery(self, reference: str, at: float, error: str) -> None:
        """A listener failed: offer the outcome again at ``at``."""

    async def outcome(self, reference: str) -> tuple[PaymentOutcome, bool] | None:
        """The outcome of ``reference`` and whether it was delivered (``None``: pending)."""

    async def stats(self) -> TrackerStats: ...


def next_poll(payment: TrackedPayment, now: float, schedule: PollSchedule) -> float:
    """When a payment claimed at ``now`` is due again: its backoff, but never past its deadline
    unless the deadline has already come (then the plain backoff, so a crash retries it)."""
    due = now + schedule.delay(payment.polls + 1)  # delay(0) led up to the first query
    if now < payment.poll_until:
        return min(due, payment.poll_until)
    return due


@attrs.define(slots=True)
class TokenBucket:
    """A token bucket for one process (the SQL stores keep theirs in a row)."""

    tokens: float = 0.0
    updated_at: float | None = None

    def take(self, now: float, rate: float, burst: float, want: int) -> int:
        if self.updated_at is None:
            self.tokens = burst
        else:
            self.tokens = min(burst, self.tokens + max(0.0, now - self.updated_at) * rate)
        self.updated_at = now
        granted = max(0, min(want, int(self.tokens)))
        self.tokens -= granted
        return granted

    def refund(self, count: int, burst: float) -> None:
        self.tokens = min(burst, self.tokens + count)


@attrs.define(slots=True, eq=False)
class _Row:
    payment: TrackedPayment
    outcome: PaymentOutcome | None = None
    delivered: bool = False
    deliver_at: float = 0.0
    attempts: int = 0
    done: set[str] = attrs.Factory(set)
    last_error: str | None = None


class MemoryTrackerStore:
    """Everything in one process's memory: for tests and for trying the tracker out."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._aliases: dict[str, str] = {}
        self._bucket = TokenBucket()

    def __repr__(self) -> str:
        return f"<MemoryTrackerStore payments={len(self._rows)}>"

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def add(self, payment: TrackedPayment) -> bool:
        if payment.reference in self._rows:
            return False
        self._rows[payment.reference] = _Row(payment=payment)
        if payment.alias:
            self._aliases.setdefault(payment.alias, payment.reference)
        return True

    async def find(self, key: str) -> TrackedPayment | None:
        row = self._rows.get(key) or self._rows.get(self._aliases.get(key, ""))
        return row.payment if row is not None else None

    async def finalize(self, outcome: PaymentOutcome) -> bool:
        row = self._rows.get(outcome.reference)
        if row is None or row.payment.state is PaymentState.FINAL:
            return False
        row.payment = attrs.evolve(row.payment, state=PaymentState.FINAL, next_poll_at=None)
        row.outcome = outcome
        row.deliver_at = outcome.decided_at
        return True

    async def note_status(self, reference: str, status: str | None) -> None:
        row = self._rows.get(reference)
        if row is not None and status is not None:
            row.payment = attrs.evolve(row.payment, last_status=status)

    async def take_tokens(self, now: float, rate: float, burst: float, want: int) -> int:
        return self._bucket.take(now, rate, burst, want)

    async def refund_tokens(self, count: int, burst: float) -> None:
        self._bucket.refund(count, burst)

    async def claim_polls(
        self, now: float, limit: int, schedule: PollSchedule
    ) -> list[TrackedPayment]:
        due = [
            row
            for row in self._rows.values()
            if row.payment.state is PaymentState.PENDING
            and row.payment.next_poll_at is not None
            and row.payment.next_poll_at <= now
        ]
        due.sort(key=lambda row: row.payment.next_poll_at or 0.0)
        claimed: list[TrackedPayment] = []
        for row in due[:limit]:
            row.payment = attrs.evolve(
                row.payment,
                polls=row.payment.polls + 1,
                next_poll_at=next_poll(row.payment, now, schedule),
            )
            claimed.append(row.payment)
        return claimed

    async def claim_deliveries(
        self, now: float, limit: int, lease: float, reference: str | None = None
    ) -> list[Delivery]:
        rows = self._rows.values() if reference is None else [self._rows.get(reference)]
        claimed: list[Delivery] = []
        for row in rows:
            if len(claimed) >= limit:
                break
            if row is None or row.outcome is None or row.delivered or row.deliver_at > now:
                continue
            row.deliver_at = now + lease
            row.attempts += 1
            claimed.append(
                Delivery(outcome=row.outcome, attempt=row.attempts, done=frozenset(row.done))
            )
        return claimed

    async def listener_done(self, reference: str, name: str) -> None:
        self._rows[reference].done.add(name)

    async def delivered(self, reference: str) -> None:
        self._rows[reference].delivered = True

    async def retry_delivery(self, reference: str, at: float, error: str) -> None:
        row = self._rows[reference]
        row.deliver_at = at
        row.last_error = error

    async def outcome(self, reference: str) -> tuple[PaymentOutcome, bool] | None:
        row = self._rows.get(reference)
        if row is None or row.outcome is None:
            return None
        return row.outcome, row.delivered

    async def stats(self) -> TrackerStats:
        pending = [r.payment for r in self._rows.values() if r.outcome is None]
        by_outcome: dict[str, int] = {}
        for row in self._rows.values():
            if row.outcome is not None:
                by_outcome[row.outcome.kind.value] = by_outcome.get(row.outcome.kind.value, 0) + 1
        oldest = min(pending, key=lambda p: p.created_at, default=None)
        polls = [p.next_poll_at for p in pending if p.next_poll_at is not None]
        return TrackerStats(
            pending=len(pending),
            final=len(self._rows) - len(pending),
            undelivered=sum(1 for r in self._rows.values() if r.outcome and not r.delivered),
            by_outcome=by_outcome,
            oldest_pending=oldest.reference if oldest else None,
            oldest_pending_at=oldest.created_at if oldest else None,
            next_poll_at=min(polls, default=None),
        )

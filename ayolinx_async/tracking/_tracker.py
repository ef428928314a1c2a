"""``PaymentTracker``: callbacks and polling merged into exactly one outcome per payment.

Both feeds end in the store's compare-and-set (pending to final, outcome queued in the same
row), so whichever learns the final status first decides, once, in any number of processes.
Listeners are fed from that outbox: one that raises (or times out) leaves the outcome queued
and it is offered again later; one that returned is recorded and never called again for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Self, overload

import anyio
import anyio.abc

from .._endpoints import Endpoint, PaymentProduct
from .._errors import ConfigurationError, OutcomeUnknownError, ValidationError
from ..callbacks._events import CallbackEvent
from ._created import created_facts
from ._feed import event_facts, outcome_from_event
from ._metrics import TrackerGauges
from ._model import (
    DEFAULT_VALIDITY,
    Delivery,
    PaymentOutcome,
    PollSchedule,
    TrackedPayment,
    TrackerStats,
    as_decimal,
    poll_deadline,
)
from ._poller import StatusSource, poll_one
from ._stores import MemoryTrackerStore, TrackerStore

__all__ = ["OutcomeListener", "PaymentTracker", "open_store"]

logger = logging.getLogger("ayolinx_async.tracking")

OutcomeListener = Callable[[PaymentOutcome], Awaitable[object]]

#: Seconds before a failed delivery is offered again: 5 s, 30 s, 2 min, then every 10 min.
DEFAULT_REDELIVERY = PollSchedule(delays=(5.0, 30.0, 120.0, 600.0))


def open_store(spec: TrackerStore | str | Path) -> TrackerStore:
    """A store from a spec: a store as is, ``"memory"``, a ``postgresql://`` DSN, or a path to
    a SQLite file."""
    if not isinstance(spec, str | Path):
        return spec
    text = str(spec)
    if text == "memory":
        return MemoryTrackerStore()
    if text.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresTrackerStore

        return PostgresTrackerStore(text)
    if not text.strip():
        raise ConfigurationError("the tracker store is empty: give a file path or a DSN")
    from ._sqlite import SQLiteTrackerStore

    return SQLiteTrackerStore(text)


def _listener_name(fn: OutcomeListener) -> str:
    module = getattr(fn, "__module__", None) or "?"
    return f"{module}.{getattr(fn, '__qualname__', type(fn).__name__)}"


def _epoch(value: datetime | float | None, field: str) -> float | None:
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, "must be an aware datetime or epoch seconds")
    return value.timestamp()


class PaymentTracker:
    """Tracks created payments until each has exactly one :class:`PaymentOutcome`.

    ``store``: a :class:`TrackerStore`, a SQLite path (``"payments.db"``), a ``postgresql://``
    DSN or ``"memory"``. ``schedule``: waits between status queries; ``rate_limit``: queries
    per second across every poller sharing the store (``burst`` saved up at most); ``grace``:
    seconds after expiry before a still-open payment ends ``unresolved``; ``concurrency``:
    queries in flight per pass; ``batch``: outcomes per outbox pass. ``clock``/``sleep``
    drive time (inject them to compress it). ``poll=False``: this process only feeds callbacks
    and delivers outcomes.
    """

    def __init__(
        self,
        client: StatusSource | None,
        *,
        store: TrackerStore | str | Path,
        schedule: PollSchedule | None = None,
        rate_limit: float = 10.0,
        burst: float | None = None,
        grace: float = 900.0,
        batch: int = 50,
        concurrency: int = 10,
        query_timeout: float = 30.0,
        idle_wait: float = 1.0,
        lease: float = 300.0,
        redelivery: PollSchedule = DEFAULT_REDELIVERY,
        listener_timeout: float = 60.0,
        poll: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        telemetry: bool | None = None,
        meter_provider: Any = None,
    ) -> None:
        if rate_limit <= 0 or (burst is not None and burst < 1):
            raise ConfigurationError("rate_limit must be positive and burst at least 1")
        if grace < 0 or batch < 1 or concurrency < 1 or lease <= listener_timeout:
            raise ConfigurationError(
                "grace >= 0, batch >= 1, concurrency >= 1 and lease > listener_timeout please"
            )
        self._client = client
        if client is not None and getattr(client, "tracker", False) is None:
            # The client's default tracker, for ``create(..., track=True)``.
            client.tracker = self  # type: ignore[attr-defined]
        self.store = open_store(store)
        self.schedule = schedule or PollSchedule()
        self.rate_limit = float(rate_limit)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate_limit)
        self.grace = float(grace)
        self._batch = batch
        self._concurrency = concurrency
        self._query_timeout = query_timeout
        self._idle_wait = idle_wait
        self._lease = lease
        self._redelivery = redelivery
        self._listener_timeout = listener_timeout
        self._poll = poll
        self._clock = clock
        self._sleep = sleep
        self._listeners: dict[str, OutcomeListener] = {}
        self._tasks: anyio.abc.TaskGroup | None = None
        self._opened = False
        # Pending count and age as gauges (``[otel]``; ``telemetry=True`` or AYOLINX_OTEL=1).
        self.gauges = TrackerGauges.build(telemetry, self.store.stats, clock, meter_provider)

    def __repr__(self) -> str:
        return f"<PaymentTracker store={self.store!r} listeners={len(self._listeners)}>"

    # -- listeners ---------------------------------------------------------------------------

    @overload
    def on_outcome(
        self, listener: OutcomeListener, *, name: str | None = None
    ) -> OutcomeListener: ...
    @overload
    def on_outcome(
        self, listener: None = None, *, name: str | None = None
    ) -> Callable[[OutcomeListener], OutcomeListener]: ...

    def on_outcome(
        self, listener: OutcomeListener | None = None, *, name: str | None = None
    ) -> OutcomeListener | Callable[[OutcomeListener], OutcomeListener]:
        """Register an async listener (also as a decorator). Its ``name`` (default: module and
        qualified name) records its deliveries, so keep it stable across restarts."""

        def register(fn: OutcomeListener) -> OutcomeListener:
            key = name or _listener_name(fn)
            if not callable(fn) or "\n" in key or key in self._listeners:
                raise ConfigurationError(f"listener {key!r} is not callable or already registered")
            self._listeners[key] = fn
            return fn

        return register(listener) if listener is not None else register

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the store (creating or migrating its schema); ``async with`` does this."""
        if not self._opened:
            await self.store.open()
            self._opened = True

    async def close(self) -> None:
        if self._opened:
            self._opened = False
            await self.store.close()

    async def __aenter__(self) -> Self:
        """Open the store and start the poller (unless ``poll=False``) and the outbox."""
        await self.open()
        tasks = anyio.create_task_group()
        await tasks.__aenter__()
        self._tasks = tasks
        if self._poll:
            tasks.start_soon(self._poll_forever)
        tasks.start_soon(self._deliver_forever)
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        tasks, self._tasks = self._tasks, None
        try:
            if tasks is not None:
                tasks.cancel_scope.cancel()
                await tasks.__aexit__(*exc_info)
        finally:
            await self.close()
        return None

    async def run(self) -> None:
        """Poll and deliver until cancelled (``ayolinx tracker run``)."""
        async with self:
            await anyio.sleep_forever()

    # -- the two entries: created payments and callbacks -------------------------------------

    async def track(
        self,
        reference: str,
        *,
        product: PaymentProduct | str,
        amount: Decimal | str | int | None = None,
        currency: str = "IDR",
        channel: str | None = None,
        expires_at: datetime | float | None = None,
        alias: str | None = None,
        uncertain: bool = False,
    ) -> TrackedPayment:
        """Record a created payment (idempotent: tracking a reference again returns the first
        record). ``expires_at`` defaults to Ayolinx's validity for the product; ``alias`` is
        the id callbacks may use instead (a payment link's id)."""
        if not isinstance(reference, str) or not reference.strip():
            raise ValidationError("reference", "is required and must not be blank")
        try:
            kind = PaymentProduct(product)
        except ValueError:
            raise ValidationError("product", f"unknown product {product!r}") from None
        now = self._clock()
        expiry = _epoch(expires_at, "expires_at")
        expiry = expiry if expiry is not None else now + DEFAULT_VALIDITY[kind]
        until = poll_deadline(expiry, self.grace)
        payment = TrackedPayment(
            reference=reference,
            product=kind,
            channel=str(channel) if channel is not None else None,
            amount=as_decimal(amount),
            currency=currency,
            alias=alias,
            created_at=now,
            expires_at=expiry,
            poll_until=until,
            uncertain=uncertain,
            next_poll_at=(
                min(now + self.schedule.delay(0), until)
                if kind is not PaymentProduct.PAYMENT_LINK
                else until
            ),
        )
        if await self.store.add(payment):
            return payment
        existing = await self.store.find(reference)
        return existing if existing is not None else payment

    async def track_unknown(
        self,
        error: OutcomeUnknownError,
        *,
        amount: Decimal | str | int | None = None,
        expires_at: datetime | float | None = None,
    ) -> TrackedPayment:
        """Track a create that raised :class:`OutcomeUnknownError`; polling (``reconcile``)
        finds out whether it happened."""
        endpoint = Endpoint.by_path(error.path)
        if endpoint is None or endpoint.product is None or not error.partner_reference_no:
            raise ValidationError("error", f"{error.path} carries no trackable reference")
        return await self.track(
            error.partner_reference_no,
            product=endpoint.product,
            amount=amount,
            channel=error.channel,
            expires_at=expires_at,
            uncertain=True,
        )

    async def track_created(
        self, product: PaymentProduct, request: object, body: Mapping[str, Any], response: object
    ) -> TrackedPayment | None:
        """Track what a resource just created (``track=tracker`` on a create): reference,
        amount and channel from the sent body, expiry from the request, a link's id."""
        facts = created_facts(request, body, response)
        if facts.reference is None:
            return None
        return await self.track(
            facts.reference,
            product=product,
            amount=facts.amount,
            currency=facts.currency,
            channel=facts.channel,
            expires_at=facts.expires_at,
            alias=facts.alias,
        )

    async def track_uncertain(
        self, error: OutcomeUnknownError, request: object, body: Mapping[str, Any]
    ) -> TrackedPayment:
        """Track a create that raised ``OutcomeUnknownError`` (``track=tracker``)."""
        facts = created_facts(request, body, None)
        return await self.track_unknown(error, amount=facts.amount, expires_at=facts.expires_at)

    async def feed(self, event: CallbackEvent) -> PaymentOutcome | None:
        """Take a verified callback (use as a ``CallbackHandler`` listener). Returns the outcome
        it decided, or ``None`` (not final, untracked, or already decided). A store failure
        raises, so the callback is answered 500 and Ayolinx redelivers it."""
        facts = event_facts(event)
        for key in facts.keys:
            payment = await self.store.find(key)
            if payment is not None:
                break
        else:
            logger.debug("tracker: callback for an untracked payment ignored")
            return None
        outcome = outcome_from_event(payment, facts, self._clock())
        if outcome is None or not await self.store.finalize(outcome):
            return None
        await self._deliver_now(outcome.reference)
        return outcome

    # -- polling ------------------------------------------------------------------------------

    async def poll_due(self) -> int:
        """One polling pass: claim the payments due (as many as the rate limit allows, at most
        ``concurrency``) and query them at once. Returns how many were claimed."""
        now = self._clock()
        # No more than can be sent right away: a claim starts the backoff window, so a query
        # queued behind others would shorten it.
        want = self._concurrency
        granted = await self.store.take_tokens(now, self.rate_limit, self.burst, want)
        if granted == 0:
            return 0
        claimed = await self.store.claim_polls(now, granted, self.schedule)
        await self.store.refund_tokens(granted - len(claimed), self.burst)
        async with anyio.create_task_group() as tasks:
            for payment in claimed:
                tasks.start_soon(self._poll_payment, payment, now)
        return len(claimed)

    async def _poll_payment(self, payment: TrackedPayment, now: float) -> None:
        verdict = await poll_one(self._client, payment, now, self._query_timeout)
        if verdict.outcome is not None:
            if await self.store.finalize(verdict.outcome):
                await self._deliver_now(payment.reference)
        elif verdict.status is not None and verdict.status != payment.last_status:
            await self.store.note_status(payment.reference, verdict.status)

    async def _poll_forever(self) -> None:
        while True:
            try:
                claimed = await self.poll_due()
                if self.gauges is not None:
                    await self.gauges.refresh()
            except Exception:
                logger.exception("tracker: polling pass failed; trying again")
                claimed = 0
            if claimed < self._concurrency:
                # Nothing more due, or the rate limit is spent: wait for tokens or new work.
                await self._sleep(min(self._idle_wait, max(1.0 / self.rate_limit, 0.01)))

    # -- the outbox ---------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Offer every queued outcome that is due to the listeners; returns how many were
        fully delivered. A process without listeners leaves the outbox alone."""
        if not self._listeners:
            return 0
        delivered = 0
        for _ in range(self._batch):
            # One claim per delivery: a lease covers one listener run, never a queue of them.
            claimed = await self.store.claim_deliveries(self._clock(), 1, self._lease)
            if not claimed:
                break
            delivered += await self._deliver(claimed[0])
        return delivered

    async def _deliver_now(self, reference: str) -> None:
        if not self._listeners:
            return
        claimed = await self.store.claim_deliveries(
            self._clock(), 1, self._lease, reference=reference
        )
        for delivery in claimed:
            await self._deliver(delivery)

    async def _deliver(self, delivery: Delivery) -> bool:
        outcome = delivery.outcome
        for name, listener in self._listeners.items():
            if name in delivery.done:
                continue
            try:
                with anyio.fail_after(self._listener_timeout):
                    await listener(outcome)
            except Exception as exc:
                wait = self._redelivery.delay(delivery.attempt - 1)
                at = self._clock() + wait
                error = f"{name}: {type(exc).__name__}: {exc}"[:500]
                await self.store.retry_delivery(outcome.reference, at, error)
                logger.warning(
                    "tracker: listener %s failed on %s (%s); offered again in %.0f s",
                    name,
                    outcome.reference,
                    type(exc).__name__,
                    wait,
                )
                return False
            await self.store.listener_done(outcome.reference, name)
        await self.store.delivered(outcome.reference)
        return True

    async def _deliver_forever(self) -> None:
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:
                logger.exception("tracker: outbox pass failed; trying again")
                delivered = 0
            if delivered < self._batch:
                await self._sleep(self._idle_wait)

    # -- reading ------------------------------------------------------------------------------

    async def outcome(self, reference: str) -> PaymentOutcome | None:
        """The outcome decided for ``reference`` (``None`` while it is pending)."""
        found = await self.store.outcome(reference)
        return found[0] if found is not None else None

    async def stats(self) -> TrackerStats:
        return await self.store.stats()

    async def next_poll_in(self) -> float | None:
        """Seconds until the next payment is due for a query (``None``: nothing pending)."""
        due = (await self.store.stats()).next_poll_at
        return None if due is None else max(0.0, due - self._clock())

"""Exactly-once delivery to the merchant's listeners: claim the dedupe key, confirm (with
``confirm_with``), run the listeners within ``listener_timeout``, then mark done or release."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from .._errors import CallbackRejected
from .._log import logger as _root_logger
from ._confirm import ConfirmFailed, confirm
from ._deadlines import ListenerDeadlines
from ._events import CallbackEvent
from ._leases import LeaseKeeper
from ._stores import DEDUPE_DONE, NamespacedDedupeStore, direct_entries, namespaced

if TYPE_CHECKING:
    from .._client import AyolinxClient
    from .._telemetry import CallbackTrace

__all__ = ["Dispatcher", "EventListener", "ListenerFailed", "ListenerTimedOut"]

_logger = _root_logger.getChild("callbacks")

EventListener = Callable[[CallbackEvent], Awaitable[object]]


class ListenerFailed(Exception):
    """A merchant listener raised; the delivery must be retried by Ayolinx."""


class ListenerTimedOut(Exception):
    """The listeners overran ``listener_timeout`` and were cancelled; Ayolinx must retry."""


class Dispatcher:
    """Hands each verified event to the listeners once per dedupe key (see the module doc)."""

    def __init__(
        self,
        *,
        listeners: tuple[EventListener, ...],
        dedupe: NamespacedDedupeStore,
        dedupe_ttl: float,
        lease: float,
        listener_timeout: float,
        confirm_with: AyolinxClient | None,
        confirm_timeout: float,
    ) -> None:
        self._listeners = listeners
        # The store itself, under namespaced keys: going through the namespaced view cost a
        # coroutine more per store call (issue 15). Lease renewals still use the view.
        self._store = dedupe.inner
        self._key_prefix = namespaced(dedupe.namespace, "")  # "<namespace>:" or ""
        # The default memory store is claimed and completed directly, without two coroutines
        # per delivery (issue 15); the handler has checked that both TTLs are positive.
        self._entries = direct_entries(self._store)
        self._dedupe_ttl = dedupe_ttl
        self._lease = lease
        self._listener_timeout = listener_timeout
        self._confirm_with = confirm_with
        self._confirm_timeout = confirm_timeout
        # Leases are renewed only when a delivery can outlive a third of one (issue 15): with
        # the defaults (20 s listeners, 300 s lease) no delivery ever needs it.
        budget = listener_timeout + (confirm_timeout if confirm_with else 0.0)
        self._leases = LeaseKeeper(dedupe, lease) if budget >= lease / 3 else None
        self._deadlines = ListenerDeadlines(listener_timeout)
        # Claim owners: a random prefix per dispatcher (processes sharing a Redis differ) and a
        # counter, instead of 16 fresh random bytes per delivery.
        self._owner_prefix = secrets.token_hex(8)
        self._owner_serial = itertools.count()

    async def deliver(self, event: CallbackEvent, trace: CallbackTrace | None = None) -> bool:
        """Confirm (with ``confirm_with``) and run the listeners once per dedupe key; False for
        an acknowledged duplicate.

        A key held by another delivery that is still running answers 409, not 200: if that
        delivery fails, Ayolinx must still have a retry pending. Every way out but success
        releases the claim, so the redelivery runs the listeners. ``trace`` (telemetry on)
        hears the dedupe result and how long the listeners ran.
        """
        key = event.dedupe_key
        stored = self._key_prefix + key  # namespaced(namespace, key), without the call
        owner = f"{self._owner_prefix}-{next(self._owner_serial)}"
        store = self._store
        entries = self._entries
        if entries is not None:
            claimed = entries.add(stored, owner, self._lease)
        else:
            claimed = await store.claim(stored, owner, self._lease)
        if not claimed:
            done = await store.get(stored) == DEDUPE_DONE
            if trace is not None:
                trace.deduped("duplicate" if done else "in_progress")
            if done:
                _logger.info("duplicate callback %s acknowledged", key)
                return False
            raise CallbackRejected(
                409, "00", "Conflict. The same callback is being processed", reason="in_progress"
            )
        if trace is not None:
            trace.deduped("new")
        leases = self._leases
        try:
            if leases is not None:
                leases.track(key, owner)
            if self._confirm_with is not None:
                event = await confirm(event, self._confirm_with, self._confirm_timeout)
            # The listeners are awaited right here (no coroutine in between, issue 15).
            if trace is None:
                timed_out = await self._deadlines.run(self._listeners, event)
            else:
                started = time.perf_counter()
                try:
                    timed_out = await self._deadlines.run(self._listeners, event)
                finally:
                    trace.listeners_ran(time.perf_counter() - started)
            if timed_out:
                _logger.warning(
                    "callback listeners for %s %s overran %gs; cancelled, answering 504 so"
                    " Ayolinx retries",
                    type(event).__name__,
                    key,
                    self._listener_timeout,
                )
                raise ListenerTimedOut
        except (CallbackRejected, ConfirmFailed, ListenerTimedOut):
            await self._release(stored, owner)
            raise
        except Exception:
            _logger.exception(
                "callback listener failed for %s %s; answering 500 so Ayolinx retries",
                type(event).__name__,
                key,
            )
            await self._release(stored, owner)
            raise ListenerFailed from None
        except BaseException:
            await self._release(stored, owner)
            raise
        finally:
            if leases is not None:
                leases.untrack(owner)
        if entries is not None:
            entries.set(stored, DEDUPE_DONE, self._dedupe_ttl)
            return True
        try:
            await store.complete(stored, self._dedupe_ttl)
        except Exception as exc:
            # The listeners succeeded: acknowledge. The processing lease still blocks
            # duplicates; answering 500 would only make Ayolinx re-run finished work.
            _logger.warning(
                "could not mark callback %s as done (%s); acknowledging anyway",
                key,
                type(exc).__name__,
            )
        return True

    async def _release(self, stored: str, owner: str) -> None:
        with anyio.CancelScope(shield=True):
            await self._store.release(stored, owner)

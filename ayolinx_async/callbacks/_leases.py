"""One shared timer per event loop that renews the processing leases of long deliveries,
instead of a task per delivery (issue 15)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from .._log import logger as _root_logger
from ._stores import DedupeStore

__all__ = ["LeaseKeeper", "current_loop", "spawn_background"]

_logger = _root_logger.getChild("callbacks")


def spawn_background(func: Callable[[], Coroutine[Any, Any, None]]) -> object:
    """Start ``func`` outside any request on the running event loop; return the loop's identity.

    asyncio: a loop task (kept referenced until done); trio: a system task, cancelled when the
    run ends. One such task per handler and loop replaces a task group per delivery (issue 15).
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import trio

        trio.lowlevel.spawn_system_task(func)
        return trio.lowlevel.current_trio_token()
    task = loop.create_task(func())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return loop


def current_loop() -> object:
    """The identity :func:`spawn_background` returns for the running loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        import trio

        return trio.lowlevel.current_trio_token()


_BACKGROUND: set[asyncio.Task[None]] = set()


class LeaseKeeper:
    """Renews the processing leases of deliveries that run longer than a third of the lease.

    Deliveries register (a dict entry, no task); one timer per event loop wakes every third of
    the lease, renews the leases that are due and stops once nothing is registered. A lease is
    thus renewed at most two thirds of a lease after it was last set.
    """

    __slots__ = ("_lease", "_running", "_store", "_timer_loop")

    def __init__(self, store: DedupeStore, lease: float) -> None:
        self._store = store
        self._lease = lease
        self._running: dict[str, tuple[str, float]] = {}  # owner -> (key, renew at)
        self._timer_loop: object | None = None

    def track(self, key: str, owner: str) -> None:
        self._running[owner] = (key, anyio.current_time() + self._lease / 3)
        if self._timer_loop is not current_loop():
            self._timer_loop = spawn_background(self._tick)

    def untrack(self, owner: str) -> None:
        self._running.pop(owner, None)

    async def _tick(self) -> None:
        try:
            while self._running:
                await anyio.sleep(self._lease / 3)
                now = anyio.current_time()
                due = [(o, k) for o, (k, at) in self._running.items() if at <= now]
                for owner, key in due:
                    await self._renew(key, owner)
                    if owner in self._running:
                        self._running[owner] = (key, now + self._lease / 3)
        finally:
            self._timer_loop = None

    async def _renew(self, key: str, owner: str) -> None:
        """One renewal; never raises (a lost or failing renewal is logged)."""
        try:
            if not await self._store.extend(key, owner, self._lease):
                _logger.warning("lost the processing lease of callback %s", key)
                self._running.pop(owner, None)
        except Exception as exc:
            _logger.warning(
                "could not renew the processing lease of %s (%s)", key, type(exc).__name__
            )

"""Listener timeouts: on asyncio from one timer per loop instead of one per delivery (issue 15),
elsewhere (trio) an anyio cancel scope.

``asyncio.timeout`` schedules and cancels a timer handle for every callback, which cost more
than the dedupe store and the listener call together. Every delivery of a dispatcher has the
same timeout, so deliveries registered in order expire in order: one timer, armed at the
oldest deadline, cancels what overran and re-arms itself at the next deadline.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

__all__ = ["ListenerDeadlines"]

Listeners = tuple[Callable[[Any], Awaitable[object]], ...]


class ListenerDeadlines:
    """Runs listeners and cancels them ``timeout`` seconds after they started. On asyncio with
    ``asyncio.timeout``'s rules: the cancellation becomes a timeout unless another one is
    pending, and a listener that swallows it just finishes.
    """

    __slots__ = ("_bounded", "_expired", "_loop", "_running", "_timeout", "_timer")

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._bounded = math.isfinite(timeout)
        #: token -> (task, deadline), oldest first: every deadline is start + the same timeout.
        self._running: dict[object, tuple[asyncio.Task[Any], float]] = {}
        self._expired: set[object] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def run(self, listeners: Listeners, event: Any) -> bool:
        """Await ``listeners`` in order with ``event``; True if the timeout cancelled them."""
        # The loop of the last delivery first: its current task is a dict lookup, while asking
        # asyncio for the running loop is a ``getpid`` system call on Python 3.11.
        last = self._loop
        task = None if last is None else asyncio.current_task(last)
        if last is not None and task is not None:
            loop = last
        else:
            running = asyncio._get_running_loop()
            if running is None:
                with anyio.move_on_after(self._timeout) as scope:
                    for listener in listeners:
                        await listener(event)
                return scope.cancelled_caught
            loop, task = running, asyncio.current_task(running)
            if task is None:
                raise RuntimeError("callback listeners must run inside a task")
        if not self._bounded:
            for listener in listeners:
                await listener(event)
            return False
        token = object()
        cancelling = task.cancelling()
        deadline = loop.time() + self._timeout
        self._running[token] = (task, deadline)
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_at(deadline, self._expire)
        try:
            for listener in listeners:
                await listener(event)
        except BaseException as exc:
            if not self._took(token):
                raise
            if task.uncancel() <= cancelling and isinstance(exc, asyncio.CancelledError):
                return True
            if isinstance(exc, TimeoutError):  # a listener's own, raised after the deadline
                return True
            raise
        finally:
            self._running.pop(token, None)
        if self._expired and self._took(token):  # a listener swallowed the cancellation
            task.uncancel()
        return False

    def _took(self, token: object) -> bool:
        """True (once) if the timer cancelled the delivery registered as ``token``."""
        if token in self._expired:
            self._expired.discard(token)
            return True
        return False

    def _expire(self) -> None:
        """The timer: cancel every delivery past its deadline, re-arm at the next deadline."""
        self._timer = None
        loop = self._loop
        if loop is None:
            return
        now = loop.time()
        running = self._running
        while running:
            token, (task, deadline) = next(iter(running.items()))
            if deadline > now:
                self._timer = loop.call_at(deadline, self._expire)
                return
            del running[token]
            if task.get_loop() is loop:  # not a delivery abandoned with an earlier loop
                self._expired.add(token)
                task.cancel()

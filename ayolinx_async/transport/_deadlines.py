"""Whole-exchange deadlines for many requests on one asyncio loop, with one loop timer.

``asyncio.timeout`` costs a ``TimerHandle`` per request, pushed into the loop's heap with
Python-level comparisons and cancelled again: about 5 µs of a ~250 µs call (issue 15). Here a
request's deadline is a tuple in a heap of our own (compared in C), and one timer, set for the
earliest deadline, cancels the requests whose time ran out. Requests of a client mostly share
one timeout, so deadlines arrive in order and the timer is rarely moved; a request that ends
is dropped from the heap when it reaches the top, or when the ended ones outnumber the rest.

The semantics are ``asyncio.timeout``'s: the task is cancelled, and the ``CancelledError`` that
leaves the block because of it becomes ``TimeoutError`` (one cancelled from elsewhere stays a
cancellation). Other event loops (trio) use ``anyio.fail_after``.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import sys
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    import asyncio

__all__ = ["Deadlines"]

_ARMED, _DONE, _EXPIRED = 0, 1, 2
#: Rebuild the heap once more than this many ended requests (and over half of it) sit in it.
_SLACK = 64
#: How early the loop may run a timer (asyncio's own allowance), so an expired top is seen.
_RESOLUTION = time.get_clock_info("monotonic").resolution
#: Seconds past which a deadline never comes in practice (about 31 years): no timer is set.
_FOREVER = 1e9


class Deadlines:
    """The deadlines of one transport's requests (``with deadlines.within(seconds):``)."""

    __slots__ = ("_cancelled", "_count", "_dead", "_heap", "_loop", "_timer", "_when")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Expiry]] = []
        self._dead = 0  # ended requests still in the heap
        self._count = itertools.count()  # tie-break: equal deadlines never compare _Expiry
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._when = 0.0  # when the timer is set for
        self._cancelled: type[BaseException] = BaseException  # asyncio's, once on a loop

    def within(self, seconds: float | None) -> AbstractContextManager[Any]:
        """A block that raises ``TimeoutError`` when it runs longer than ``seconds`` (``None``,
        an infinite or an absurdly long one never does; NaN is refused: in the shared heap it
        would hold back every deadline behind it, and uvloop refuses its timer)."""
        if seconds is None:
            return contextlib.nullcontext()
        if not seconds < _FOREVER:
            if seconds != seconds:
                raise ValueError("a deadline cannot be NaN seconds")
            return contextlib.nullcontext()  # beyond any run (uvloop refuses such timers)
        aio: Any = sys.modules.get("asyncio")
        loop = self._loop
        # The loop of the last request first: asking asyncio for the running loop costs a
        # ``getpid`` system call on Python 3.11; its current task is a dict lookup.
        task: asyncio.Task[Any] | None = None if loop is None else aio.current_task(loop)
        if task is None:
            loop = None if aio is None else aio._get_running_loop()
            task = None if loop is None else aio.current_task(loop)
        if loop is None or task is None:
            # trio (or a coroutine driven outside any task): anyio's cancel scope.
            return anyio.fail_after(seconds)
        if loop is not self._loop:
            self._restart(loop, aio.CancelledError)
        return _Expiry(self, loop.time() + seconds, task)

    def _push(self, expiry: _Expiry) -> None:
        when = expiry.when
        if self._timer is None or when < self._when:
            self._arm(when)
        heapq.heappush(self._heap, (when, next(self._count), expiry))

    def _ended(self) -> None:
        """A request ended in time: drop the ended ones from the top, and compact if needed."""
        heap = self._heap
        self._dead += 1
        while heap and heap[0][2].state == _DONE:
            heapq.heappop(heap)
            self._dead -= 1
        if self._dead > _SLACK and 2 * self._dead > len(heap):
            self._heap = [entry for entry in heap if entry[2].state != _DONE]
            heapq.heapify(self._heap)
            self._dead = 0

    def _arm(self, when: float) -> None:
        """Set the timer for ``when``. The new timer first: if the loop refuses it, nothing
        here has changed."""
        assert self._loop is not None
        timer = self._loop.call_at(when, self._fire)
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._when = timer, when

    def _fire(self) -> None:
        """The timer: cancel every request whose deadline passed, then set it for the next."""
        self._timer = None
        assert self._loop is not None
        now = self._loop.time() + _RESOLUTION
        heap = self._heap
        while heap and heap[0][0] <= now:
            expiry = heapq.heappop(heap)[2]
            if expiry.state == _ARMED:
                expiry.state = _EXPIRED
                expiry.task.cancel()
            elif expiry.state == _DONE:
                self._dead -= 1
        if heap:
            self._arm(heap[0][0])

    def _restart(self, loop: asyncio.AbstractEventLoop, cancelled: type[BaseException]) -> None:
        """First use on ``loop``: requests of an earlier loop are gone with it."""
        self._cancelled = cancelled
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._heap = []
        self._dead = 0
        self._loop = loop


class _Expiry:
    """One request's deadline: the context manager :meth:`Deadlines.within` returns."""

    __slots__ = ("cancelling", "owner", "state", "task", "when")

    def __init__(self, owner: Deadlines, when: float, task: asyncio.Task[Any]) -> None:
        self.owner = owner
        self.when = when
        self.task = task
        self.state = _ARMED
        self.cancelling = 0

    def __enter__(self) -> _Expiry:
        self.cancelling = self.task.cancelling()
        self.owner._push(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        if self.state == _EXPIRED:
            # As asyncio.timeout: our cancel is taken back; if no other cancel is pending and
            # the block left by a cancellation, it is a timeout.
            if (
                self.task.uncancel() <= self.cancelling
                and exc_type is not None
                and issubclass(exc_type, self.owner._cancelled)
            ):
                raise TimeoutError from exc
            return
        self.state = _DONE
        self.owner._ended()

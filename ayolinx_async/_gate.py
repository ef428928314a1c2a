"""The pipeline's gate (docs/architecture.md §2, step 0): at most ``size`` attempts past it, the
others waiting in arrival order, each only while its call could still start an attempt.

On asyncio a waiting call holds one future and one number, not a coroutine frame and a timer of
its own: a released slot is handed to the oldest waiter (its future resolves ``True``), and one
loop timer, set for the earliest expiry, resolves the waiters whose wait ran out with ``False``.
Other event loops (trio) wait on an ``anyio.Semaphore`` inside a deadline scope, as before; a
client runs on one event loop at a time, so the two never count the same slots.

Nothing here imports asyncio: it is read from ``sys.modules`` once a call runs on it.
"""

from __future__ import annotations

import heapq
import sys
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio

if TYPE_CHECKING:
    import asyncio

__all__ = ["Gate", "Lent", "Queued", "on_asyncio", "settle", "take_lent"]

_T = TypeVar("_T")


def on_asyncio() -> bool:
    """Whether an asyncio loop runs this code (trio: no). For code inside an event loop only:
    anyio runs on asyncio or trio, and trio marks its runs in ``sniffio.thread_local`` (a plain
    attribute read). Asking asyncio for its running loop instead costs a ``getpid`` system
    call on Python 3.11, and a typed call asked five times (issue 15)."""
    modules = sys.modules
    if "trio" in modules:
        sniffio = modules.get("sniffio")
        if sniffio is None or sniffio.thread_local.name == "trio":
            return sniffio is None and _asyncio_loop_running()
    return "asyncio" in modules


def _asyncio_loop_running() -> bool:
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


#: Compact the wait queues once this many entries more than twice the live waiters are dead.
_SLACK = 64


class Lent:
    """How a typed call's wait at the gate ended, lent to the ``send_call`` it starts through
    ``client.post``: the first to take it owns its slot (if ``held``); if nobody does,
    :func:`settle` gives the slot back. One-shot, so a task started in between cannot use it
    twice."""

    __slots__ = ("gate", "held", "patience", "started", "taken", "waited")

    def __init__(
        self, gate: Gate, started: float, waited: float, patience: float, *, held: bool
    ) -> None:
        self.gate = gate
        #: The call's clock when it began waiting: the wait counts against its deadline.
        self.started = started
        #: Seconds it waited (real time), so the call's logged duration includes them.
        self.waited = waited
        #: Seconds it could wait (named by a pool timeout's message).
        self.patience = patience
        #: False: the wait ran out; ``send_call`` fails the attempt with a pool timeout, so
        #: the failure is decided, logged and traced like any other.
        self.held = held
        self.taken = False


#: The wait the running typed call lends to the ``send_call`` below it (a context variable,
#: so ``post``'s signature stays public and a wrapper around ``post`` still sees the call).
_LENT: ContextVar[Lent | None] = ContextVar("ayolinx_async_lent_slot", default=None)


def take_lent(gate: Gate) -> Lent | None:
    """For the first attempt of ``send_call`` through ``gate``: the wait a typed call lent it
    (its slot, if ``held``, is now the caller's), or ``None`` (queue as usual)."""
    lent = _LENT.get()
    if lent is None or lent.taken or lent.gate is not gate:
        return None
    lent.taken = True
    return lent


def settle(token: Token[Lent | None]) -> None:
    """After the call a :class:`Lent` went to: give its slot back if nothing took it."""
    lent = token.var.get()
    token.var.reset(token)
    if lent is not None and not lent.taken:
        lent.taken = True
        if lent.held:
            lent.gate.release()


class Gate:
    """A FIFO semaphore of ``size`` slots with expiring waits (see the module docstring)."""

    __slots__ = (
        "_heap",
        "_live",
        "_loop",
        "_order",
        "_queue",
        "_timer",
        "_when",
        "free",
        "semaphore",
    )

    def __init__(self, size: int) -> None:
        #: Slots free on asyncio; never above 0 while a live waiter is queued (slots are
        #: handed over on release, so a new call cannot overtake the queue).
        self.free = size
        #: The gate on other event loops (trio).
        self.semaphore = anyio.Semaphore(size, fast_acquire=True)
        self._queue: deque[_Waiter] = deque()  # arrival order
        #: Expiry order, in two parts. Calls with one timeout queue in expiry order, so a
        #: waiter expiring no earlier than the last one in ``_order`` joins its end (no
        #: comparisons); only the others go to ``_heap``. Each waiter sits in exactly one.
        self._order: deque[_Waiter] = deque()
        #: The waiters themselves, not (expiry, n, waiter) tuples: ordering them costs a
        #: Python ``__lt__`` per comparison, but a tuple per waiting call was 6% more memory
        #: per queued call at 10,000 in flight (the memory goal).
        self._heap: list[_Waiter] = []
        self._live = 0  # queued waiters not resolved yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._when = 0.0  # when the timer is set for

    @property
    def value(self) -> int:
        """Free slots on the event loop running now (for tests and diagnostics)."""
        return self.free if _asyncio_loop_running() else self.semaphore.value

    def take(self) -> bool:
        """Take a free slot without waiting, if there is one (any event loop)."""
        if not on_asyncio():
            if self.semaphore.value > 0:
                self.semaphore.acquire_nowait()
                return True
            return False
        if self.free > 0:
            self.free -= 1
            return True
        return False

    def release(self) -> None:
        """Give a slot back: to the oldest live waiter on asyncio, else to the free count."""
        if not on_asyncio():
            self.semaphore.release()
            return
        queue = self._queue
        if queue and sys.modules["asyncio"]._get_running_loop() is not self._loop:
            self._restart(None)  # waiters of a loop that has gone cannot be woken
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(True)
                self._live -= 1
                order = self._order
                while order and order[0].done():
                    order.popleft()
                heap = self._heap
                while heap and heap[0].done():
                    heapq.heappop(heap)
                return
        self.free += 1

    async def acquire(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for a slot (any event loop): ``False`` when none came."""
        if not on_asyncio():
            try:
                with anyio.fail_after(seconds):
                    await self.semaphore.acquire()
            except TimeoutError:
                return False
            return True
        waiter = self.wait(seconds)
        if waiter is None:
            return True
        try:
            return await waiter
        except BaseException:
            self.abandon(waiter)
            raise

    def wait(self, seconds: float) -> _Waiter | None:
        """On asyncio: take a free slot (``None``), or queue for at most ``seconds`` and return
        the future to await: ``True`` when a slot was handed over, ``False`` when the time ran
        out. A caller leaving its ``await`` by an exception must call :meth:`abandon`."""
        if self.free > 0:
            self.free -= 1
            return None
        loop = sys.modules["asyncio"].get_running_loop()
        if loop is not self._loop:
            self._restart(loop)
        waiter = (_WAITER or _waiter_type())(loop=loop)
        waiter.expiry = expiry = loop.time() + seconds
        queue = self._queue
        queue.append(waiter)
        order = self._order
        if not order or order[-1].expiry <= expiry:
            order.append(waiter)
        else:
            heapq.heappush(self._heap, waiter)
        self._live += 1
        if self._timer is None or expiry < self._when:
            self._arm(expiry)
        bound = 2 * self._live + _SLACK
        if len(queue) > bound or len(order) + len(self._heap) > bound:
            self._tidy()
        return waiter

    def abandon(self, waiter: _Waiter) -> None:
        """The caller of :meth:`wait` left its ``await`` by an exception (cancelled): a slot
        already handed to it is passed on; otherwise it just stops waiting."""
        if waiter.cancelled():
            self._live -= 1
        elif not waiter.done():
            waiter.cancel()
            self._live -= 1
        elif waiter.result():
            self.release()
        self._tidy()

    def lend(self, started: float, waiter: _Waiter | None, seconds: float) -> Token[Lent | None]:
        """After :meth:`wait` (``waiter``, for at most ``seconds``) ended without an exception:
        lend its outcome to the ``send_call`` the running task starts next."""
        if waiter is None:
            return _LENT.set(Lent(self, started, 0.0, seconds, held=True))
        held = waiter.result()
        waited = waiter.get_loop().time() - (waiter.expiry - seconds)
        # A wait that ran out lasted its whole patience (float rounding, or a loop that runs a
        # timer a hair early, must not make it look shorter).
        waited = max(waited, 0.0) if held else max(waited, seconds)
        return _LENT.set(Lent(self, started, waited, seconds, held=held))

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        assert self._loop is not None
        self._when = when
        self._timer = self._loop.call_at(when, self._expire)

    def _expire(self) -> None:
        """The timer: resolve every waiter whose wait ran out, then set it for the next one."""
        self._timer = None
        assert self._loop is not None
        now = max(self._loop.time(), self._when)  # the loop may run a handle just early
        order = self._order
        while order and (order[0].expiry <= now or order[0].done()):
            waiter = order.popleft()
            if not waiter.done():
                waiter.set_result(False)
                self._live -= 1
        heap = self._heap
        while heap and (heap[0].expiry <= now or heap[0].done()):
            waiter = heapq.heappop(heap)
            if not waiter.done():
                waiter.set_result(False)
                self._live -= 1
        queue = self._queue
        while queue and queue[0].done():
            queue.popleft()
        heads = [part[0].expiry for part in (order, heap) if part]
        if heads:
            self._arm(min(heads))

    def _tidy(self) -> None:
        """Drop the resolved and cancelled waiters still queued (cancelled in the middle of
        the queue, or out of time before older ones) once they outnumber the live ones."""
        bound = 2 * self._live + _SLACK
        if len(self._queue) <= bound and len(self._order) + len(self._heap) <= bound:
            return
        self._queue = deque(waiter for waiter in self._queue if not waiter.done())
        self._order = deque(waiter for waiter in self._order if not waiter.done())
        live = [waiter for waiter in self._heap if not waiter.done()]
        heapq.heapify(live)
        self._heap = live

    def _restart(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """First use on ``loop``: whatever queued on an earlier loop is gone with it."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._queue.clear()
        self._order.clear()
        self._heap.clear()
        self._live = 0
        self._loop = loop


class Queued(Generator[Any, None, _T]):
    """A typed call waiting for its slot on asyncio, as the awaitable its resource method
    awaits: it parks the task on its waiter, then lends the wait's outcome to
    ``start(*args, lent)`` and runs that coroutine in its own place.

    Written by hand rather than as a coroutine so that a waiting call holds this object and
    its future, not a frame: the send it starts is only created once the call may go.
    """

    __slots__ = ("_args", "_gate", "_inner", "_patience", "_start", "_started", "_waiter")

    def __init__(
        self,
        gate: Gate,
        waiter: _Waiter,
        started: float,
        patience: float,
        start: Callable[..., Coroutine[Any, Any, _T]],
        args: tuple[Any, ...],
    ) -> None:
        self._gate = gate
        self._waiter = waiter
        self._started = started
        self._patience = patience
        self._start: Callable[..., Coroutine[Any, Any, _T]] | None = start
        self._args = args
        self._inner: Coroutine[Any, Any, _T] | None = None

    def __await__(self) -> Generator[Any, None, _T]:
        return self

    def send(self, value: None = None) -> Any:
        inner = self._inner
        if inner is not None:
            return inner.send(value)
        waiter = self._waiter
        if not waiter.done():
            waiter._asyncio_future_blocking = True  # what Future.__await__ sets when it yields
            return waiter
        start = self._start
        if start is None:
            raise RuntimeError("cannot reuse an already awaited call")
        lent = self._gate.lend(self._started, waiter, self._patience)
        inner = self._inner = start(*self._args, lent)
        self._start = None
        self._args = ()
        return inner.send(None)

    #: What a task's step calls (``await`` resumes a non-native awaitable with ``__next__``):
    #: the same function, not the ABC's ``__next__`` calling ``send`` (a call less per step).
    __next__ = send

    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any:
        exc = typ if isinstance(typ, BaseException) else (typ() if val is None else val)
        if tb is not None:
            exc = exc.with_traceback(tb)
        inner = self._inner
        if inner is not None:
            return inner.throw(exc)
        if self._start is not None:  # still waiting (cancelled): pass on a slot handed to it
            self._start = None
            self._args = ()
            self._gate.abandon(self._waiter)
        raise exc

    def close(self) -> None:
        inner = self._inner
        if inner is not None:
            inner.close()
        elif self._start is not None:
            self._start = None
            self._args = ()
            self._gate.abandon(self._waiter)


if TYPE_CHECKING:

    class _Waiter(asyncio.Future[bool]):
        expiry: float

        def __lt__(self, other: _Waiter) -> bool: ...


_WAITER: type[_Waiter] | None = None


def _waiter_type() -> type[_Waiter]:
    """The waiter class: an ``asyncio.Future`` that knows when its wait runs out, ordered by
    it for the timer's heap (built on first use, so importing the SDK does not import
    asyncio)."""
    global _WAITER
    if _WAITER is None:
        import asyncio

        class Waiter(asyncio.Future[bool]):
            __slots__ = ("expiry",)
            expiry: float

            def __lt__(self, other: Waiter) -> bool:
                return self.expiry < other.expiry

        _WAITER = cast("type[_Waiter]", Waiter)
    return _WAITER

"""The transports' whole-exchange deadline (``transport/_deadlines.Deadlines``) on its own:
``asyncio.timeout`` semantics for many requests with one shared loop timer (asyncio's own loop
and uvloop, whose timers may run early), and ``anyio.fail_after`` on trio.

A request that ends through the transports is covered by test_transport_conformance.py (a
server that never answers, a trickling body, a per-request timeout: every transport and loop).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from ayolinx_async.transport._deadlines import _ARMED, _EXPIRED, Deadlines

pytestmark = pytest.mark.anyio

#: asyncio's own loop and uvloop (uvicorn's default; it may run a timer a little early).
asyncio_only = pytest.mark.parametrize(
    "anyio_backend", ["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)
#: The same, and trio (where ``within`` is ``anyio.fail_after``).
every_loop = pytest.mark.parametrize(
    "anyio_backend",
    ["asyncio", ("asyncio", {"use_uvloop": True}), "trio"],
    ids=["asyncio", "uvloop", "trio"],
)
trio_only = pytest.mark.parametrize("anyio_backend", ["trio"])

#: A guard far above any deadline here: a deadline that never fires fails fast, not in 5 s.
GUARD = 3.0
#: "Took the deadline, not the sleep": generous, for a noisy shared machine.
WELL_BEFORE_THE_SLEEP = 2.0


def _task() -> asyncio.Task[Any]:
    task = asyncio.current_task()
    assert task is not None
    return task


# -- one block (asyncio, uvloop) ----------------------------------------------------------------


@asyncio_only
async def test_a_block_that_outlives_its_deadline_raises_timeout_error() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(GUARD):
        started = loop.time()
        with pytest.raises(TimeoutError) as info, deadlines.within(0.05):
            await asyncio.sleep(5)
        elapsed = loop.time() - started
    assert 0.05 - 1e-6 <= elapsed < WELL_BEFORE_THE_SLEEP
    assert isinstance(info.value.__cause__, asyncio.CancelledError)  # as asyncio.timeout
    # Our cancel was taken back: the task goes on as if nothing happened.
    assert _task().cancelling() == 0
    await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert deadlines._heap == []


@asyncio_only
async def test_a_block_that_ends_in_time_returns_its_value_and_is_never_cancelled_later() -> None:
    deadlines = Deadlines()

    async def work() -> str:
        await asyncio.sleep(0.01)
        return "answer"

    with deadlines.within(0.05):
        result = await work()
    assert result == "answer"
    # The timer still runs out after the block ended; it must leave the task alone.
    await asyncio.sleep(0.1)
    await asyncio.sleep(0)
    assert _task().cancelling() == 0
    with deadlines.within(5):  # and the next block works
        await asyncio.sleep(0)


@asyncio_only
@pytest.mark.parametrize("seconds", [0.0, -1.0])
async def test_a_deadline_already_passed_times_out_at_the_first_wait(seconds: float) -> None:
    deadlines = Deadlines()
    async with asyncio.timeout(GUARD) as guard:
        with pytest.raises(TimeoutError), deadlines.within(seconds):
            await asyncio.sleep(5)
    assert not guard.expired()
    assert _task().cancelling() == 0


@asyncio_only
@pytest.mark.parametrize("seconds", [0.0001, 0.0004, 0.0009, 0.0015, 0.0105, 0.02])
async def test_a_deadline_never_fires_early(seconds: float) -> None:
    # uvloop's timers run up to a millisecond early: the deadline must re-arm, not fire.
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    for _ in range(5):
        async with asyncio.timeout(GUARD) as guard:
            with pytest.raises(TimeoutError), deadlines.within(seconds) as expiry:
                await asyncio.sleep(5)
        assert not guard.expired()  # it was the deadline that ran out
        assert loop.time() >= expiry.when - 1e-6


@asyncio_only
async def test_an_error_inside_the_block_passes_through_unchanged() -> None:
    deadlines = Deadlines()
    error = ValueError("boom")

    async def fails() -> None:
        with deadlines.within(5):
            await asyncio.sleep(0)
            raise error

    with pytest.raises(ValueError, match="boom") as info:
        await fails()
    assert info.value is error
    assert info.value.__cause__ is None
    assert deadlines._heap == []  # ended, so dropped
    assert _task().cancelling() == 0


@asyncio_only
async def test_an_error_raised_after_the_deadline_passes_through_unchanged() -> None:
    # As asyncio.timeout: only a CancelledError leaving the block becomes a TimeoutError.
    deadlines = Deadlines()

    async def fails() -> None:
        with deadlines.within(0.02):
            try:
                await asyncio.sleep(5)
            except asyncio.CancelledError:
                raise ValueError("cleanup failed") from None

    async with asyncio.timeout(GUARD) as guard:
        with pytest.raises(ValueError, match="cleanup failed"):
            await fails()
    assert not guard.expired()
    assert _task().cancelling() == 0
    await asyncio.sleep(0.01)


@asyncio_only
async def test_nested_blocks_each_keep_their_own_deadline() -> None:
    deadlines = Deadlines()
    async with asyncio.timeout(GUARD) as guard:
        # The inner one runs out: its TimeoutError is the outer block's ordinary exception.
        with deadlines.within(5):
            with pytest.raises(TimeoutError), deadlines.within(0.02):
                await asyncio.sleep(5)
            await asyncio.sleep(0.01)
        # The outer one runs out: the inner block lets the cancellation through.
        reached: list[bool] = []

        async def outer_runs_out() -> None:
            with deadlines.within(0.02):
                with deadlines.within(5):
                    await asyncio.sleep(5)
                reached.append(True)

        with pytest.raises(TimeoutError):
            await outer_runs_out()
        assert reached == []
    assert not guard.expired()
    assert _task().cancelling() == 0


# -- cancellation from elsewhere ----------------------------------------------------------------


@asyncio_only
async def test_a_cancel_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines()
    left: list[BaseException] = []

    async def request() -> None:
        try:
            with deadlines.within(5):
                await asyncio.sleep(5)
        except BaseException as exc:
            left.append(exc)
            raise

    async def canceller(target: asyncio.Task[None]) -> None:
        await asyncio.sleep(0.02)
        target.cancel()

    async with asyncio.timeout(GUARD):
        target = asyncio.create_task(request())
        await asyncio.gather(canceller(target), asyncio.wait([target]))
    assert target.cancelled()
    assert [type(exc) for exc in left] == [asyncio.CancelledError]
    with deadlines.within(0.05):  # the Deadlines is still fine
        await asyncio.sleep(0)


@asyncio_only
@pytest.mark.parametrize(
    "offset", [-0.04, 0.04], ids=["the-outside-cancel-first", "the-deadline-first"]
)
async def test_an_outside_cancel_wins_over_a_deadline_that_ran_out_with_it(offset: float) -> None:
    # Both land before the task runs again, in either order: as with asyncio.timeout, the
    # outside cancel is not swallowed into a TimeoutError. The outside cancel is a loop timer
    # 40 ms before or after the deadline: both loops run due timers in order of their time.
    deadlines = Deadlines()
    seen: list[tuple[int, int]] = []
    at_the_outside_cancel: list[int] = []

    async def request() -> None:
        loop = asyncio.get_running_loop()
        task = _task()

        def cancel_from_outside(expiry: Any) -> None:
            at_the_outside_cancel.append(expiry.state)
            task.cancel()

        with deadlines.within(0.05) as expiry:
            try:
                loop.call_at(expiry.when + offset, cancel_from_outside, expiry)
                time.sleep(0.15)  # blocking: the deadline and the outside cancel are both due
                await asyncio.sleep(5)
            finally:
                seen.append((expiry.state, task.cancelling()))

    async with asyncio.timeout(GUARD):
        target = asyncio.create_task(request())
        await asyncio.wait([target])
    assert at_the_outside_cancel == [_ARMED if offset < 0 else _EXPIRED]  # the order meant
    assert seen == [(_EXPIRED, 2)]  # the deadline ran out too, before the task ran again
    assert target.cancelled(), target.exception()


@asyncio_only
async def test_an_outer_asyncio_timeout_is_not_taken_for_ours() -> None:
    deadlines = Deadlines()
    left: list[BaseException] = []
    outer = asyncio.timeout(0.02)

    async def runs_out() -> None:
        async with outer:
            try:
                with deadlines.within(5):
                    await asyncio.sleep(5)
            except BaseException as exc:
                left.append(exc)
                raise

    with pytest.raises(TimeoutError):
        await runs_out()
    assert outer.expired()
    assert [type(exc) for exc in left] == [asyncio.CancelledError]
    assert _task().cancelling() == 0


@every_loop
async def test_an_anyio_cancel_scope_is_not_taken_for_ours() -> None:
    deadlines = Deadlines()
    left: list[BaseException] = []
    with anyio.fail_after(GUARD), anyio.move_on_after(0.02) as scope:
        try:
            with deadlines.within(5):
                await anyio.sleep(5)
        except BaseException as exc:
            left.append(exc)
            raise
    assert scope.cancelled_caught
    assert len(left) == 1
    assert isinstance(left[0], anyio.get_cancelled_exc_class())
    await anyio.lowlevel.checkpoint()


# -- many requests on one Deadlines -------------------------------------------------------------


@asyncio_only
async def test_many_concurrent_requests_time_out_exactly_when_their_work_outlives_them() -> None:
    deadlines = Deadlines()

    async def request(index: int) -> str:
        slow = index % 2 == 0
        try:
            with deadlines.within(0.05 if slow else 5.0):
                await asyncio.sleep(5.0 if slow else 0.01)
        except TimeoutError:
            assert _task().cancelling() == 0
            await asyncio.sleep(0)
            return "timed out"
        return "done"

    async with asyncio.timeout(GUARD):
        results = await asyncio.gather(*(request(index) for index in range(300)))
    assert results == ["timed out", "done"] * 150
    assert all(entry[2].state != _ARMED for entry in deadlines._heap)


@asyncio_only
async def test_deadlines_run_out_in_their_own_order_not_their_arrival_order() -> None:
    deadlines = Deadlines()
    order: list[float] = []

    async def request(seconds: float) -> None:
        with pytest.raises(TimeoutError), deadlines.within(seconds):
            await asyncio.sleep(5)
        order.append(seconds)

    async with asyncio.timeout(GUARD) as guard:
        await asyncio.gather(*(request(seconds) for seconds in (0.2, 0.08, 0.15, 0.03, 0.1)))
    assert not guard.expired()
    assert order == [0.03, 0.08, 0.1, 0.15, 0.2]


@asyncio_only
async def test_a_short_deadline_after_a_long_one_fires_on_time() -> None:
    # The timer is set for the 30 s block; the 0.05 s one must move it earlier.
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    opened = asyncio.Event()

    async def long_request() -> None:
        with deadlines.within(30):
            opened.set()
            await asyncio.sleep(30)

    async with asyncio.timeout(GUARD):
        long_one = asyncio.create_task(long_request())
        await opened.wait()
        started = loop.time()
        with pytest.raises(TimeoutError), deadlines.within(0.05):
            await asyncio.sleep(5)
        elapsed = loop.time() - started
    assert 0.05 - 1e-6 <= elapsed < WELL_BEFORE_THE_SLEEP
    assert not long_one.done()  # its own deadline is far away
    long_one.cancel()
    await asyncio.wait([long_one])
    assert long_one.cancelled()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_requests_sharing_one_timeout_share_one_loop_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The point of the class (issue 15): not a TimerHandle per request. asyncio's own loop
    # only: uvloop's loop class takes no attribute to spy with.
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def spy(when: float, callback: Callable[..., object], *args: Any, **kwargs: Any) -> Any:
        if getattr(callback, "__self__", None) is deadlines:
            armed.append(when)
        return call_at(when, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", spy)

    async def request() -> None:
        with deadlines.within(30):
            await asyncio.sleep(0)

    for _ in range(10):
        await asyncio.gather(*(request() for _ in range(100)))
    assert len(armed) == 1


# -- no growth ----------------------------------------------------------------------------------


@asyncio_only
async def test_sequential_requests_that_end_in_time_leave_the_heap_small() -> None:
    deadlines = Deadlines()
    largest = 0
    for index in range(20_000):
        with deadlines.within(30):
            if index % 100 == 0:
                await asyncio.sleep(0)
            largest = max(largest, len(deadlines._heap))
    assert largest < 200
    assert len(deadlines._heap) < 200


@asyncio_only
async def test_requests_ending_behind_a_long_one_leave_the_heap_small() -> None:
    # A long request with the earliest deadline stays on top of the heap, so the ones that
    # end after it are never "at the top": they must be swept out all the same.
    deadlines = Deadlines()
    opened = asyncio.Event()

    async def long_request() -> None:
        with deadlines.within(20):
            opened.set()
            await asyncio.sleep(30)

    long_one = asyncio.create_task(long_request())
    await opened.wait()
    largest = 0
    for index in range(20_000):
        with deadlines.within(30):
            if index % 100 == 0:
                await asyncio.sleep(0)
            largest = max(largest, len(deadlines._heap))
    assert largest < 200
    assert len(deadlines._heap) < 200
    assert not long_one.done()
    long_one.cancel()
    await asyncio.wait([long_one])


@asyncio_only
async def test_concurrent_requests_ending_in_random_order_leave_the_heap_small() -> None:
    deadlines = Deadlines()
    rng = random.Random(15)
    concurrent, rounds = 100, 50
    largest = 0

    async def worker() -> None:
        nonlocal largest
        for _ in range(rounds):
            with deadlines.within(30):
                largest = max(largest, len(deadlines._heap))
                for _ in range(rng.randrange(4)):
                    await asyncio.sleep(0)

    async with asyncio.timeout(GUARD * 2):
        await asyncio.gather(*(worker() for _ in range(concurrent)))
    # Never more ended requests in it than live ones (or _SLACK): at most about 2 x 100.
    assert largest < 2 * concurrent + 10
    assert len(deadlines._heap) < 2 * concurrent + 10


# -- other event loops --------------------------------------------------------------------------


def test_one_deadlines_on_two_asyncio_loops_one_after_the_other() -> None:
    deadlines = Deadlines()

    async def exchange() -> float:
        loop = asyncio.get_running_loop()
        with deadlines.within(30):  # leaves the timer set, 30 s ahead, on this loop
            assert await asyncio.sleep(0, "in time") == "in time"
            assert deadlines._loop is loop  # the shared timer, not a fallback
            assert len(deadlines._heap) == 1
        started = loop.time()
        with pytest.raises(TimeoutError), deadlines.within(0.05):
            await asyncio.sleep(5)
        elapsed = loop.time() - started
        assert _task().cancelling() == 0
        await asyncio.sleep(0)
        return elapsed

    for _ in range(2):
        elapsed = asyncio.run(asyncio.wait_for(exchange(), GUARD))
        assert 0.05 - 1e-6 <= elapsed < WELL_BEFORE_THE_SLEEP


_LOOPS: dict[str, tuple[str, dict[str, Any]]] = {
    "asyncio": ("asyncio", {}),
    "uvloop": ("asyncio", {"use_uvloop": True}),
    "trio": ("trio", {}),
}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("uvloop", "asyncio"),
        ("asyncio", "uvloop"),
        ("uvloop", "uvloop"),
        ("trio", "asyncio"),
        ("asyncio", "trio"),
    ],
)
def test_one_deadlines_on_one_loop_after_another(first: str, second: str) -> None:
    deadlines = Deadlines()

    async def exchange(name: str) -> None:
        with anyio.fail_after(GUARD):
            with deadlines.within(30):
                await anyio.lowlevel.checkpoint()
                if name != "trio":  # the shared timer on this loop, not a fallback
                    assert deadlines._loop is asyncio.get_running_loop()
                    assert len(deadlines._heap) == 1
            started = anyio.current_time()
            with pytest.raises(TimeoutError), deadlines.within(0.05):
                await anyio.sleep(5)
            assert 0.05 - 1e-6 <= anyio.current_time() - started < WELL_BEFORE_THE_SLEEP

    for name in (first, second):
        backend, options = _LOOPS[name]
        anyio.run(exchange, name, backend=backend, backend_options=options)


# -- trio: anyio.fail_after ---------------------------------------------------------------------


@trio_only
async def test_on_trio_a_block_that_outlives_its_deadline_raises_timeout_error() -> None:
    deadlines = Deadlines()
    with anyio.fail_after(GUARD):
        started = anyio.current_time()
        with pytest.raises(TimeoutError), deadlines.within(0.05):
            await anyio.sleep(5)
        elapsed = anyio.current_time() - started
    assert 0.05 - 1e-6 <= elapsed < WELL_BEFORE_THE_SLEEP
    await anyio.lowlevel.checkpoint()  # not left cancelled
    assert deadlines._loop is None  # trio never touches the asyncio side
    assert deadlines._heap == []


@trio_only
async def test_on_trio_a_block_that_ends_in_time_returns_its_value() -> None:
    deadlines = Deadlines()

    async def work() -> str:
        await anyio.sleep(0.01)
        return "answer"

    with deadlines.within(0.1):
        result = await work()
    assert result == "answer"
    await anyio.sleep(0.15)  # past the deadline: nothing happens
    with pytest.raises(ValueError, match="boom"), deadlines.within(5):
        raise ValueError("boom")


@every_loop
async def test_many_concurrent_requests_on_any_loop(anyio_backend_name: str) -> None:
    deadlines = Deadlines()
    results: dict[int, str] = {}

    async def request(index: int) -> None:
        slow = index % 2 == 0
        try:
            with deadlines.within(0.05 if slow else 5.0):
                await anyio.sleep(5.0 if slow else 0.01)
        except TimeoutError:
            results[index] = "timed out"
            await anyio.lowlevel.checkpoint()
        else:
            results[index] = "done"

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as group:
            for index in range(300):
                group.start_soon(request, index)
    assert [results[index] for index in range(300)] == ["timed out", "done"] * 150
    if anyio_backend_name == "trio":
        assert deadlines._loop is None


@asyncio_only
async def test_a_nan_deadline_is_refused_and_the_others_still_fire() -> None:
    # In the shared heap a NaN deadline would hold back every deadline behind it (asyncio),
    # and uvloop refuses its timer after the entry is pushed (no deadline would fire again).
    deadlines = Deadlines()
    with pytest.raises(ValueError, match="NaN"):
        deadlines.within(float("nan"))
    async with asyncio.timeout(GUARD) as guard:
        with pytest.raises(TimeoutError), deadlines.within(0.05):
            await asyncio.sleep(5)
    assert not guard.expired()


@asyncio_only
async def test_an_infinite_deadline_never_fires_and_holds_no_one_back() -> None:
    deadlines = Deadlines()
    with deadlines.within(float("inf")):
        assert deadlines._heap == []
        async with asyncio.timeout(GUARD) as guard:
            with pytest.raises(TimeoutError), deadlines.within(0.05):
                await asyncio.sleep(5)
        assert not guard.expired()
        assert await asyncio.sleep(0.01, "still running") == "still running"


@pytest.mark.parametrize("field", ["connect", "total"])
def test_a_nan_timeout_is_refused(field: str) -> None:
    from ayolinx_async.transport import Timeout

    with pytest.raises(ValueError, match="positive"):
        Timeout(**{field: float("nan")})


@asyncio_only
@pytest.mark.parametrize("seconds", [1e9, 1e300, None])
async def test_an_absurdly_long_deadline_takes_no_timer(seconds: float | None) -> None:
    # uvloop refuses a timer that far ahead; such a deadline never comes anyway (None: none).
    deadlines = Deadlines()
    with deadlines.within(seconds):
        assert deadlines._heap == []
        async with asyncio.timeout(GUARD) as guard:
            with pytest.raises(TimeoutError), deadlines.within(0.05):
                await asyncio.sleep(5)
        assert not guard.expired()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_timer_the_loop_refuses_leaves_the_others_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    with deadlines.within(30):  # the timer is set, 30 s ahead
        call_at = loop.call_at

        def refuse(when: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
            raise OverflowError("refused")

        monkeypatch.setattr(loop, "call_at", refuse)
        with pytest.raises(OverflowError):
            deadlines.within(0.01).__enter__()
        monkeypatch.setattr(loop, "call_at", call_at)
        assert len(deadlines._heap) == 1  # the refused one was never queued
        async with asyncio.timeout(GUARD) as guard:
            with pytest.raises(TimeoutError), deadlines.within(0.05):
                await asyncio.sleep(5)
        assert not guard.expired()

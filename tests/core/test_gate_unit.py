"""The gate on its own (``_gate.Gate``): on asyncio a FIFO semaphore whose waiters are bare
futures resolved by ``release`` (``True``: the slot is theirs) or by one shared timer (``False``:
their wait ran out), with the classic races settled; on trio an ``anyio.Semaphore``."""

from __future__ import annotations

import asyncio
import sys

import anyio
import pytest

from ayolinx_async._gate import Gate, settle, take_lent

pytestmark = pytest.mark.anyio
#: asyncio's own loop and uvloop (uvicorn's default; its futures and tasks are not asyncio's
#: classes, and the gate's waiters must work on both).
asyncio_only = pytest.mark.parametrize(
    "anyio_backend", ["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)


def _taken(size: int) -> Gate:
    gate = Gate(size)
    for _ in range(size):
        assert gate.wait(60.0) is None  # free slots are taken without a future
    return gate


@asyncio_only
async def test_slots_go_to_waiters_in_arrival_order() -> None:
    gate = _taken(1)
    waiters = [gate.wait(60.0) for _ in range(1000)]
    assert all(waiter is not None and not waiter.done() for waiter in waiters)
    for index, waiter in enumerate(waiters):
        gate.release()
        assert waiter is not None
        assert waiter.result() is True
        assert all(not later.done() for later in waiters[index + 1 : index + 3] if later)
    assert gate.value == 0  # the last waiter holds the slot
    gate.release()
    assert gate.value == 1


@asyncio_only
async def test_a_new_call_cannot_overtake_a_waiter_handed_a_slot() -> None:
    gate = _taken(1)
    waiter = gate.wait(60.0)
    gate.release()  # handed over, its task not yet run
    assert waiter is not None
    assert waiter.result() is True
    assert gate.value == 0
    assert gate.wait(60.0) is not None  # a newcomer queues


@asyncio_only
async def test_the_timer_and_a_release_in_the_same_pass() -> None:
    # Release first: the waiter gets the slot and the timer, firing after, leaves it alone.
    gate = _taken(1)
    waiter = gate.wait(0.0)
    gate.release()
    await asyncio.sleep(0.01)
    assert waiter is not None
    assert waiter.result() is True
    assert gate.value == 0
    gate.release()
    assert gate.value == 1
    # Timer first: the waiter's time is up, and the slot released after it is not lost.
    gate = _taken(1)
    waiter = gate.wait(0.0)
    await asyncio.sleep(0.01)
    assert waiter is not None
    assert waiter.result() is False
    gate.release()
    assert gate.value == 1


@asyncio_only
async def test_waits_run_out_by_their_own_expiry_not_their_place_in_line() -> None:
    gate = _taken(1)
    started = asyncio.get_running_loop().time()
    long = [gate.wait(0.3) for _ in range(200)]
    short = [gate.wait(0.1) for _ in range(200)]
    await asyncio.sleep(0.2)
    assert all(waiter is not None and waiter.result() is False for waiter in short)
    assert all(waiter is not None and not waiter.done() for waiter in long)
    await asyncio.sleep(0.2)
    assert all(waiter is not None and waiter.result() is False for waiter in long)
    assert asyncio.get_running_loop().time() - started >= 0.3
    gate.release()
    assert gate.value == 1  # nobody left waiting: the slot is free again


@asyncio_only
async def test_expiry_order_is_kept_without_comparisons_for_one_timeout() -> None:
    # Calls with one timeout queue in expiry order: they join ``_order`` (no heap, no
    # ``__lt__``); a shorter wait arriving later goes to the heap, and the timer is set for
    # the earliest of both.
    gate = _taken(1)
    same = [gate.wait(60.0) for _ in range(100)]
    assert list(gate._order) == same
    assert gate._heap == []
    short = gate.wait(1.0)
    assert short is not None
    assert gate._heap == [short]
    assert gate._when == short.expiry
    expiries = [waiter.expiry for waiter in gate._order]
    assert expiries == sorted(expiries)
    # Releases hand slots over in arrival order, whichever part a waiter sits in.
    for waiter in [*same, short]:
        gate.release()
        assert waiter is not None
        assert waiter.result() is True
    assert not gate._order
    assert not gate._heap


@asyncio_only
async def test_a_mix_of_timeouts_runs_out_each_on_time() -> None:
    import random

    rng = random.Random(15)
    gate = _taken(1)
    loop = asyncio.get_running_loop()
    waiters = [gate.wait(rng.choice([0.05, 0.1, 0.15, 0.2, 0.25])) for _ in range(600)]
    for _ in range(6):
        await asyncio.sleep(0.05)
        now = loop.time()
        for waiter in waiters:
            assert waiter is not None
            if waiter.expiry < now - 0.02:
                assert waiter.done()
                assert waiter.result() is False
            elif waiter.expiry > now + 0.02:
                assert not waiter.done()
    await asyncio.sleep(0.1)
    assert all(waiter is not None and waiter.result() is False for waiter in waiters)
    assert gate._live == 0
    gate.release()
    assert gate.value == 1


@asyncio_only
async def test_a_task_cancelled_after_its_slot_was_handed_passes_it_on() -> None:
    gate = _taken(1)
    tasks = [asyncio.create_task(gate.acquire(60.0)) for _ in range(1000)]
    try:
        await asyncio.sleep(0)
        for index in range(0, 1000, 2):
            gate.release()  # hands the slot to task ``index`` ...
            tasks[index].cancel()  # ... cancelled before it runs: task index+1 gets it
            await asyncio.sleep(0)  # task ``index`` ends, passing the slot on
            await asyncio.sleep(0)  # task ``index + 1`` runs with it
            assert tasks[index].cancelled()
            assert tasks[index + 1].done()
            assert tasks[index + 1].result() is True
        assert gate.value == 0  # the last one holds it
        gate.release()
        assert gate.value == 1
    finally:
        for task in tasks:
            task.cancel()


@asyncio_only
async def test_cancelled_waiters_are_not_kept() -> None:
    gate = _taken(1)
    tasks = [asyncio.create_task(gate.acquire(60.0)) for _ in range(3000)]
    await asyncio.sleep(0)
    for task in tasks[:-10]:
        task.cancel()
    await asyncio.sleep(0)
    assert len(gate._queue) <= 2 * 10 + 64
    assert len(gate._order) + len(gate._heap) <= 2 * 10 + 64
    for _ in range(10):
        gate.release()
        await asyncio.sleep(0)
    assert all(task.result() is True for task in tasks[-10:])
    gate.release()
    assert gate.value == 1


def test_a_gate_outlives_its_event_loop() -> None:
    gate = _taken(1)

    async def wait_once() -> bool:
        waiter = gate.wait(60.0)
        assert waiter is not None
        releaser = asyncio.create_task(_release_soon(gate))
        handed = await waiter
        await releaser
        return handed

    assert asyncio.run(wait_once()) is True
    assert asyncio.run(wait_once()) is True  # a fresh loop: the old timer is not reused
    assert asyncio.run(_value(gate)) == 0


async def _release_soon(gate: Gate) -> None:
    await asyncio.sleep(0.01)
    gate.release()


async def _value(gate: Gate) -> int:
    return gate.value


async def test_acquire_times_out_and_gives_nothing_away() -> None:
    gate = Gate(2)
    assert gate.take()
    assert gate.take()
    assert not gate.take()
    with anyio.fail_after(2):
        assert await gate.acquire(0.05) is False
    gate.release()
    assert await gate.acquire(0.05) is True
    assert gate.value == 0
    gate.release()
    gate.release()
    assert gate.value == 2


@asyncio_only
async def test_a_lent_slot_is_taken_once_or_given_back() -> None:
    gate = _taken(2)
    token = gate.lend(0.0, None, 1.0)
    child = asyncio.create_task(_take(gate))  # a task started now inherits the loan ...
    lent = take_lent(gate)
    assert lent is not None  # ... but only one of them gets it
    assert lent.held
    assert await child is None
    assert take_lent(gate) is None
    settle(token)
    assert gate.value == 0  # taken: the taker gives it back
    token = gate.lend(0.0, None, 1.0)
    settle(token)  # nobody took it: given back now
    assert gate.value == 1
    assert take_lent(gate) is None  # and the loan ended with the call
    token = gate.lend(0.0, None, 1.0)
    assert take_lent(Gate(1)) is None  # another client's call cannot take it
    settle(token)
    assert gate.value == 2


async def _take(gate: Gate) -> object:
    return take_lent(gate)


@asyncio_only
async def test_a_wait_that_ran_out_is_lent_without_a_slot() -> None:
    gate = _taken(1)
    waiter = gate.wait(0.01)
    assert waiter is not None
    assert await waiter is False
    token = gate.lend(0.0, waiter, 0.01)
    lent = take_lent(gate)
    assert lent is not None
    assert not lent.held
    assert lent.waited >= 0.01
    settle(token)
    assert gate.value == 0  # the slot is still the holder's


@asyncio_only
async def test_without_trio_imported_the_gate_runs_on_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Production asyncio apps never import trio: then ``on_asyncio`` answers without asking
    # asyncio for its loop (a system call on 3.11), and the gate must behave the same.
    from ayolinx_async._gate import on_asyncio

    monkeypatch.delitem(sys.modules, "trio", raising=False)
    assert on_asyncio()
    gate = Gate(2)
    arrived: list[int] = []
    order: list[int] = []

    async def call(index: int) -> None:
        # Arrival is recorded where the call meets the gate (nothing can run in between): the
        # loop need not start tasks in the order they were created (seen once on uvloop).
        arrived.append(index)
        if not gate.take():
            assert await gate.acquire(60.0)
        try:
            order.append(index)
            await asyncio.sleep(0.001)
        finally:
            gate.release()

    async with anyio.create_task_group() as tasks:
        for index in range(50):
            tasks.start_soon(call, index)
            await asyncio.sleep(0)
    assert sorted(order) == list(range(50))
    assert order == arrived  # first come, first served
    assert gate.value == 2


def test_a_release_after_the_loop_is_gone_does_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    # A suspended call closed by the garbage collector releases its slot with no loop running
    # (an asyncio app: trio not imported).
    monkeypatch.delitem(sys.modules, "trio", raising=False)
    gate = Gate(1)

    async def queue_one() -> object:
        assert gate.take()
        return gate.wait(60.0)

    waiter = asyncio.run(queue_one())
    assert waiter is not None
    gate.release()  # the waiter's loop is gone: its queue is dropped, the slot counted free
    assert gate.free == 1


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_on_trio_the_gate_is_not_asyncios(anyio_backend: str) -> None:
    # trio marks its runs in sniffio; asyncio imported alongside must not mislead the check.
    from ayolinx_async._gate import on_asyncio

    assert "asyncio" in sys.modules
    assert not on_asyncio()
    gate = Gate(1)
    assert gate.take()
    assert gate.semaphore.value == 0  # trio's slots are the anyio semaphore's
    assert gate.free == 1
    gate.release()
    assert gate.semaphore.value == 1

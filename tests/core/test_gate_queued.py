"""``_gate.Queued``: the hand-written awaitable a typed call waits in (asyncio). It must act as
the coroutine it replaces: park the task on its future, then run the send it starts and hand
back its value or exception; a cancel, ``throw`` or ``close`` while it waits passes on a slot
already handed to it; the send is only created once the call may go."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import Token
from typing import Any

import pytest

from ayolinx_async._gate import Gate, Lent, Queued, settle, take_lent

pytestmark = pytest.mark.anyio
#: asyncio's own loop and uvloop (uvicorn's default; its futures and tasks are not asyncio's
#: classes, and the gate's waiters must work on both).
asyncio_only = pytest.mark.parametrize(
    "anyio_backend", ["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)


class _Starts:
    """The coroutine a ``Queued`` starts: records that it started and what it was lent."""

    def __init__(self, gate: Gate, *, fail: BaseException | None = None) -> None:
        self.gate = gate
        self.fail = fail
        self.started: list[str] = []
        self.held: list[bool] = []

    async def start(self, name: str, lent: Token[Lent | None]) -> str:
        self.started.append(name)
        taken = take_lent(self.gate)
        assert taken is not None
        self.held.append(taken.held)
        try:
            await asyncio.sleep(0)  # a real suspension inside the started send
            if self.fail is not None:
                raise self.fail
            return f"answer {name}"
        finally:
            if taken.held:
                self.gate.release()
            settle(lent)


def _full() -> Gate:
    """A gate of one slot, taken: the next call queues."""
    gate = Gate(1)
    assert gate.wait(60.0) is None  # a free slot is taken without a future
    return gate


def _queued(gate: Gate, starts: _Starts, name: str, patience: float = 60.0) -> Queued[str]:
    waiter = gate.wait(patience)
    assert waiter is not None, "the gate must be full for a call to queue"
    return Queued(gate, waiter, 0.0, patience, starts.start, (name,))


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


@asyncio_only
async def test_it_waits_then_returns_what_the_started_send_returns() -> None:
    gate = _full()
    starts = _Starts(gate)
    task = asyncio.ensure_future(_await(_queued(gate, starts, "A")))
    await asyncio.sleep(0.01)
    assert not task.done()
    assert starts.started == []  # nothing of the send exists while it waits
    gate.release()
    assert await task == "answer A"
    assert starts.started == ["A"]
    assert starts.held == [True]
    assert gate.value == 1


@asyncio_only
async def test_an_exception_of_the_started_send_reaches_the_caller() -> None:
    gate = _full()
    starts = _Starts(gate, fail=ValueError("boom"))
    task = asyncio.ensure_future(_await(_queued(gate, starts, "A")))
    await asyncio.sleep(0)
    gate.release()
    with pytest.raises(ValueError, match="boom"):
        await task
    assert gate.value == 1


@asyncio_only
async def test_a_wait_that_runs_out_is_lent_as_not_held() -> None:
    gate = _full()
    starts = _Starts(gate)
    assert await _await(_queued(gate, starts, "A", patience=0.01)) == "answer A"
    assert starts.held == [False]  # send_call turns this into a PoolTimeoutError
    gate.release()
    assert gate.value == 1


@asyncio_only
async def test_cancelled_while_waiting_it_never_starts_the_send() -> None:
    gate = _full()
    starts = _Starts(gate)
    tasks = [asyncio.ensure_future(_await(_queued(gate, starts, f"C{i}"))) for i in range(500)]
    await asyncio.sleep(0.01)
    for task in tasks[::2]:
        task.cancel()
    gate.release()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results[::2])
    assert results[1::2] == [f"answer C{i}" for i in range(1, 500, 2)]
    assert starts.started == [f"C{i}" for i in range(1, 500, 2)]  # in arrival order
    assert gate.value == 1  # no slot lost, none doubled


@asyncio_only
async def test_cancelled_after_being_handed_a_slot_passes_it_on() -> None:
    gate = _full()
    starts = _Starts(gate)
    first = asyncio.ensure_future(_await(_queued(gate, starts, "A")))
    second = asyncio.ensure_future(_await(_queued(gate, starts, "B")))
    await asyncio.sleep(0.01)
    gate.release()  # handed to A, whose task has not run yet
    first.cancel()
    assert await second == "answer B"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert starts.started == ["B"]
    assert gate.value == 1


@asyncio_only
async def test_throw_and_close_while_waiting_give_the_slot_back() -> None:
    for end in ("throw", "close"):
        gate = _full()
        starts = _Starts(gate)
        queued = _queued(gate, starts, "A")
        coroutine = _await(queued)
        parked = coroutine.send(None)  # parks on the waiter
        assert isinstance(parked, asyncio.Future)
        gate.release()  # handed over ...
        if end == "throw":  # ... then the caller gives up
            with pytest.raises(KeyError):
                coroutine.throw(KeyError("stop"))
        else:
            coroutine.close()
        assert starts.started == []
        assert gate.value == 1, end  # the slot it was handed is free again

"""The asyncio gate against a reference model, on a loop whose clock the test moves: random
mixes of waits with different timeouts, releases, cancellations and the passing of time,
checked after every step (who holds a slot, whose wait ran out, the free count). The gate keeps
waiters in an expiry-ordered deque and a heap; the model has neither, only the rules:
slots go to the oldest live waiter, a wait ends at its expiry, a cancelled waiter passes on a
slot it was handed."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from ayolinx_async._gate import Gate

if TYPE_CHECKING:
    from ayolinx_async._gate import _Waiter

WAITING, HELD, EXPIRED, CANCELLED, DONE = "waiting", "held", "expired", "cancelled", "done"


@dataclass
class Model:
    """What the gate must do, written as plainly as possible."""

    free: int
    now: float = 0.0
    #: Per waiter (by index): its expiry and state.
    expiry: list[float] = field(default_factory=list)
    state: list[str] = field(default_factory=list)
    #: Slots held by calls that never queued (taken free).
    direct: int = 0

    def wait(self, patience: float) -> int | None:
        if self.free > 0:
            self.free -= 1
            self.direct += 1
            return None
        self.expiry.append(self.now + patience)
        self.state.append(WAITING)
        return len(self.state) - 1

    def release(self) -> None:
        for index, state in enumerate(self.state):
            if state == WAITING:
                self.state[index] = HELD
                return
        self.free += 1

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for index, state in enumerate(self.state):
            if state == WAITING and self.expiry[index] <= self.now:
                self.state[index] = EXPIRED

    def cancel(self, index: int) -> None:
        if self.state[index] == WAITING:
            self.state[index] = CANCELLED
        elif self.state[index] == HELD:
            self.state[index] = CANCELLED
            self.release()  # the slot it was handed goes on


def _state(future: asyncio.Future[bool]) -> str:
    if future.cancelled():
        return CANCELLED
    if not future.done():
        return WAITING
    return HELD if future.result() else EXPIRED


async def _scenario(seed: int) -> None:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    clock = [loop.time()]
    loop.time = lambda: clock[0]  # type: ignore[method-assign]
    gate = Gate(rng.choice([1, 2, 3]))
    try:
        size = gate.free
        model = Model(free=size, now=clock[0])
        futures: list[_Waiter] = []
        finished: set[int] = set()  # holders that gave their slot back (or left)
        for step in range(80):
            roll = rng.random()
            if roll < 0.45:
                patience = float(rng.choice([1, 2, 3, 5, 8]))
                waiter = gate.wait(patience)
                expected = model.wait(patience)
                assert (waiter is None) == (expected is None), (seed, step)
                if waiter is not None:
                    futures.append(waiter)
            elif roll < 0.70:
                holders = [
                    i for i, f in enumerate(futures) if i not in finished and _state(f) == HELD
                ]
                if holders and (model.direct == 0 or rng.random() < 0.5):
                    finished.add(rng.choice(holders))
                elif model.direct:
                    model.direct -= 1
                else:
                    continue
                gate.release()
                model.release()
            elif roll < 0.85:
                seconds = float(rng.choice([1, 2, 3]))
                clock[0] += seconds
                model.advance(seconds)
                await asyncio.sleep(0)  # the gate's timer runs on this loop turn
                await asyncio.sleep(0)
            else:
                live = [i for i, f in enumerate(futures) if i not in finished]
                if not live:
                    continue
                index = rng.choice(live)
                if model.state[index] in (WAITING, HELD):
                    # As a task cancelled in its await does: its future is cancelled unless a
                    # slot was handed to it first, then the gate is told.
                    finished.add(index)
                    if model.state[index] == WAITING:
                        futures[index].cancel()
                    gate.abandon(futures[index])
                    model.cancel(index)
            for index, future in enumerate(futures):
                if index in finished:
                    continue  # its call is over: what it held was given back
                seen = _state(future)
                wanted = model.state[index]
                assert seen == wanted, (seed, step, index, seen, wanted)
            assert gate.free == model.free, (seed, step)
            assert gate._live == model.state.count(WAITING), (seed, step)
    finally:
        if gate._timer is not None:
            gate._timer.cancel()  # set by the test's clock: not to be waited for
        del loop.time


@pytest.mark.parametrize("block", range(10))
def test_the_gate_follows_the_model(block: int) -> None:
    for seed in range(block * 40, block * 40 + 40):
        asyncio.run(_scenario(seed))

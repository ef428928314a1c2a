"""The simulator's background work (callback retries, auto-pay timers): one task group while
running, and a count of outstanding tasks that :meth:`Background.drain` waits on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

__all__ = ["Background", "only_exception"]

logger = logging.getLogger("ayolinx_async.simulator")


class Background:
    """Tasks started while the simulator runs; a failing task is logged, never propagated."""

    def __init__(self) -> None:
        self._task_group: TaskGroup | None = None
        self._pending = 0
        self._idle: anyio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task_group is not None

    def attach(self, task_group: TaskGroup) -> None:
        self._task_group = task_group

    def cancel(self) -> None:
        """Stop retries and auto-pay timers (``drain`` first lets them finish)."""
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()

    def reset(self) -> None:
        """Forget the task group and wake every ``drain`` waiter."""
        self._task_group = None
        self._pending = 0
        if self._idle is not None:
            self._idle.set()
            self._idle = None

    def spawn(self, func: Callable[..., Awaitable[None]], *args: Any) -> bool:
        """Start ``func(*args)`` in the background; False when not running."""
        if self._task_group is None:
            return False
        self._pending += 1
        self._task_group.start_soon(self._tracked, func, *args)
        return True

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no background task is outstanding."""
        with anyio.fail_after(timeout):
            while self._pending:
                if self._idle is None:
                    self._idle = anyio.Event()
                await self._idle.wait()

    async def _tracked(self, func: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await func(*args)
        except Exception:
            logger.exception("simulator background task failed")
        finally:
            self._pending -= 1
            if self._pending <= 0 and self._idle is not None:
                self._pending = 0
                self._idle.set()
                self._idle = None


def only_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception inside a (nested) group, or ``None`` when there are several."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        current = pending.pop()
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        else:
            leaves.append(current)
    return leaves[0] if len(leaves) == 1 else None

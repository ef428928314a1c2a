"""An outcome listener for the tracker worker processes: appends ``reference pid`` to the file
named by ``TRACKER_TEST_OUTCOMES`` (flushed and fsynced: the side effect survives SIGKILL)."""

from __future__ import annotations

import os

import anyio

from ayolinx_async.tracking import PaymentOutcome


async def record(outcome: PaymentOutcome) -> None:
    await anyio.sleep(0.002)  # some work, so a kill can land mid-delivery
    line = f"{outcome.reference} {outcome.kind.value} {os.getpid()}\n"
    with open(os.environ["TRACKER_TEST_OUTCOMES"], "a", encoding="utf-8") as file:
        file.write(line)
        file.flush()
        os.fsync(file.fileno())

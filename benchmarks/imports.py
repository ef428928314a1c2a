"""Import time: ``import ayolinx_async`` vs ``import httpx``, each in a fresh interpreter, best
of N, interleaved (the interpreter's own start-up is subtracted)."""

from __future__ import annotations

import subprocess
import sys

from ._report import Check, Report

GOAL = 1.3
_PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def _seconds(stmt: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return float(done.stdout)


def run(quick: bool = False) -> list[Report]:
    tries = 5 if quick else 15
    # ``import ayolinx_async`` alone may be lazy; what a user pays is the client's import.
    statements = (
        "import httpx",
        # The floor the client cannot go under: its core dependencies that httpx lacks.
        "import httpx, attrs, anyio",
        "import ayolinx_async",
        "from ayolinx_async import AyolinxClient",
        "import ayolinx_async.callbacks",
        "import ayolinx_async.models",
    )
    best = {stmt: float("inf") for stmt in statements}
    for index in range(tries):
        for stmt in statements if index % 2 == 0 else statements[::-1]:
            best[stmt] = min(best[stmt], _seconds(stmt))
    httpx_s = best["import httpx"]
    report = Report(
        title="Import time",
        setup=f"Fresh interpreter per import, best of {tries}, interleaved; milliseconds.",
        columns=["statement", "best ms", "ratio to import httpx"],
        rows=[[f"`{stmt}`", best[stmt] * 1000, best[stmt] / httpx_s] for stmt in statements],
    )
    for stmt in statements[2:4]:
        report.checks.append(Check(f"{stmt} / import httpx", best[stmt] / httpx_s, "<=", GOAL))
    return [report]

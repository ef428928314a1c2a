"""Result tables, goal checks, timing helpers and the machine description."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata


@dataclass
class Check:
    """A goal from the issue: ``value`` compared with ``goal`` by ``op`` (``<=``, ``>=``, ``==``).

    Counts (``int``) print as integers.
    """

    name: str
    value: float | int
    op: str
    goal: float | int

    @property
    def met(self) -> bool:
        if self.op == "<=":
            return self.value <= self.goal
        if self.op == ">=":
            return self.value >= self.goal
        return self.value == self.goal

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return f"{self.name}: {_fmt(self.value)} (goal {self.op} {_fmt(self.goal)}) {verdict}"


@dataclass
class Report:
    """One benchmark's table plus its goal checks and notes on what limits the numbers."""

    title: str
    setup: str
    columns: Sequence[str]
    rows: list[Sequence[object]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[_fmt(c) for c in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]

        def line(row: Sequence[str]) -> str:
            first = row[0].ljust(widths[0])
            rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
            return "| " + " | ".join([first, *rest]) + " |"

        out = [f"### {self.title}", "", self.setup, "", line(cells[0])]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out.extend(line(row) for row in cells[1:])
        if self.checks:
            out.append("")
            out.extend(f"- {check.line()}" for check in self.checks)
        if self.notes:
            out.append("")
            out.extend(f"- {note}" for note in self.notes)
        return "\n".join(out)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    """One line naming the machine, interpreter and library versions the numbers came from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for text in info:
                if text.startswith("model name"):
                    cpu = text.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    libs = []
    for name in ("httpx", "aiohttp", "uvicorn", "cryptography", "anyio"):
        try:
            libs.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()},"
        f" Python {platform.python_version()} ({sys.implementation.name}); " + ", ".join(libs)
    )


async def timed(op: Callable[[], Awaitable[object]], calls: int) -> float:
    """Seconds per call for ``calls`` sequential awaits of ``op`` (after a full GC)."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        await op()
    return (time.perf_counter() - started) / calls


async def interleaved(
    variants: Mapping[str, Callable[[], Awaitable[object]]], *, rounds: int, calls: int
) -> dict[str, list[float]]:
    """Per-round seconds/call for each variant, variants alternating order every round so that
    drift on a noisy machine hits all of them alike."""
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            samples[name].append(await timed(variants[name], calls))
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """Median of per-round ratios: each round measured both sides back to back, so load that
    comes and goes between rounds cancels out of each ratio."""
    return median([a / b for a, b in zip(numerators, denominators, strict=True)])

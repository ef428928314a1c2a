"""Result tables, goal checks, timing helpers and the machine description."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
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


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-round ratios: each round measured both sides back to back."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def ratio_cell(values: Sequence[float]) -> str:
    """``median [min-max]`` of per-round ratios."""
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"

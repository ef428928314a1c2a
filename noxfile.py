"""Sessions: ``tests``, ``min_deps`` (the tests on the lowest versions pyproject.toml allows),
``lint`` (ruff check + format --check), ``typecheck`` (mypy --strict), ``bench`` (benchmarks/,
not part of CI)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["tests", "min_deps", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


def _floors() -> list[str]:
    """``name==version`` for every ``name>=version`` in the project's own dependencies."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = []
    for requirement in project["dependencies"]:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)", requirement.strip())
        if found is None:
            raise ValueError(f"dependency {requirement!r} has no plain >= floor")
        floors.append(f"{found[1]}=={found[2]}")
    return floors


@nox.session
def min_deps(session: nox.Session) -> None:
    """The layers that use the core dependencies directly, on exactly the lowest versions
    pyproject.toml allows (a floor that is too low is a crash on a user's machine)."""
    constraints = Path(session.create_tmp()) / "floors.txt"
    constraints.write_text("\n".join(_floors()) + "\n", encoding="utf-8")
    session.install("-c", str(constraints), "-e", ".[dev]")
    names = [floor.split("==")[0] for floor in _floors()]
    session.run(
        "python",
        "-c",
        f"import importlib.metadata as m; print({{n: m.version(n) for n in {names!r}}})",
    )
    session.run("pytest", "-q", *(session.posargs or _MIN_DEPS_TESTS))


#: What ``min_deps`` runs: everything but the slow multi-process, browser and scale suites,
#: which exercise servers and extras rather than the core dependencies.
_MIN_DEPS_TESTS = (
    "tests/core",
    "tests/signing",
    "tests/products",
    "tests/callbacks",
    "tests/transport",
    "tests/reliability",
    "tests/auth",
    "tests/cli/test_doctor.py",
)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "ayolinx_async", "tests", "examples", "benchmarks")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (issue 15): ~15 minutes on 2 cores, rewrites benchmarks/README.md; pass
    ``-- --quick`` for a smoke run. ``requests`` is the 16-thread peer (bench only); the
    instruction counts need ``valgrind`` on the machine (skipped without it)."""
    session.install("-e", ".[dev]", "requests")
    session.run("python", "-m", "benchmarks", *session.posargs)

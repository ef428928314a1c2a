"""Sessions: ``tests``, ``lint`` (ruff check + format --check), ``typecheck`` (mypy --strict),
``bench`` (benchmarks/, not part of CI)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


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
    """Benchmarks (issue 15): ~10 minutes on 2 cores, rewrites benchmarks/README.md; pass
    ``-- --quick`` for a ~2 minute smoke run. ``requests`` is the 16-thread peer (bench only)."""
    session.install("-e", ".[dev]", "requests")
    session.run("python", "-m", "benchmarks", *session.posargs)

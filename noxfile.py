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
    session.run("mypy", "--strict", "ayolinx_async")


@nox.session
def bench(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)

"""Fixtures of the tracker tests: one PostgreSQL server per session (started on demand)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._postgres import postgres_server


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A running PostgreSQL server's DSN (skips, or fails in CI, without PostgreSQL)."""
    with postgres_server() as dsn:
        yield dsn

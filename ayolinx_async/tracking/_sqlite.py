"""The SQLite store: the embedded default, one file in WAL mode that survives restarts.

The stdlib ``sqlite3`` runs on a worker thread (``anyio.to_thread``, one at a time per store),
so the store works under asyncio and trio alike. Several processes may share the file: every
claim runs in a ``BEGIN IMMEDIATE`` transaction, which SQLite serialises across processes.
"""

# ruff: noqa: S608 (SQL is built only from the constant column lists; values are bound)

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import attrs

from .._errors import ConfigurationError
from . import _columns
from ._model import Delivery, PaymentOutcome, PollSchedule, TrackedPayment, TrackerStats
from ._stores import next_poll

__all__ = ["SCHEMA_VERSION", "SQLiteTrackerStore"]

_T = TypeVar("_T")

_TYPES = _columns.ColumnTypes(
    seconds="REAL", flag="INTEGER", false="0", names="TEXT", no_names="''"
)

#: Migrations, in order; the store applies those above the file's ``user_version``.
_MIGRATIONS: tuple[str, ...] = (
    _columns.payments_table("CREATE TABLE IF NOT EXISTS", _TYPES)
    + """
    CREATE INDEX IF NOT EXISTS ayolinx_payments_due
        ON ayolinx_payments (next_poll_at) WHERE state = 'pending';
    CREATE INDEX IF NOT EXISTS ayolinx_payments_outbox
        ON ayolinx_payments (deliver_at) WHERE outcome IS NOT NULL AND delivered = 0;
    CREATE INDEX IF NOT EXISTS ayolinx_payments_alias
        ON ayolinx_payments (alias) WHERE alias IS NOT NULL;
    CREATE TABLE IF NOT EXISTS ayolinx_rate (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tokens REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_OUTCOME_COLUMNS = (
    "reference, product, outcome AS kind, source, decided_at, status, channel, amount,"
    " paid_amount, detail"
)


def _payment(row: sqlite3.Row) -> TrackedPayment:
    return _columns.payment_from_columns(**dict(row))


def _outcome(row: sqlite3.Row) -> PaymentOutcome:
    values = dict(row)
    values.pop("attempts", None)
    values.pop("done", None)
    return _columns.outcome_from_columns(**values)


class SQLiteTrackerStore:
    """Tracked payments in a SQLite file (``PaymentTracker(client, store="payments.db")``).

    ``synchronous`` is SQLite's setting: ``FULL`` (default) survives a power cut as well as a
    crash; ``NORMAL`` is faster and still survives a killed process.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", timeout: float = 30.0):
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigurationError("synchronous must be FULL, NORMAL or EXTRA")
        self.path = Path(path)
        self._synchronous = synchronous.upper()
        self._timeout = timeout
        self._connection: sqlite3.Connection | None = None
        self._limiter = anyio.CapacityLimiter(1)

    def __repr__(self) -> str:
        return f"<SQLiteTrackerStore {str(self.path)!r}>"

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        connection = self._connection
        if connection is None:
            raise ConfigurationError("the SQLite tracker store is not open (async with tracker)")
        return await anyio.to_thread.run_sync(fn, connection, limiter=self._limiter)

    async def open(self) -> None:
        if self._connection is not None:
            return
        self._connection = await anyio.to_thread.run_sync(self._connect, limiter=self._limiter)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"{self.path} has tracker schema {version}; this SDK knows up to"
                    f" {SCHEMA_VERSION}: upgrade ayolinx-async"
                )
            for migration in _MIGRATIONS[version:]:
                for statement in migration.split(";"):
                    if statement.strip():
                        connection.execute(statement)
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            connection.close()
            raise
        return connection

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await anyio.to_thread.run_sync(connection.close, limiter=self._limiter)

    async def add(self, payment: TrackedPayment) -> bool:
        sql = (
            f"INSERT INTO ayolinx_payments ({_columns.PAYMENT_COLUMNS})"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (reference) DO NOTHING"
        )
        values = _columns.payment_values(payment)
        return await self._run(lambda c: c.execute(sql, values).rowcount == 1)

    async def find(self, key: str) -> TrackedPayment | None:
        def find(c: sqlite3.Connection) -> TrackedPayment | None:
            select = f"SELECT {_columns.PAYMENT_COLUMNS} FROM ayolinx_payments WHERE"
            row = c.execute(f"{select} reference = ?", (key,)).fetchone()
            if row is None:
                row = c.execute(f"{select} alias = ? LIMIT 1", (key,)).fetchone()
            return _payment(row) if row is not None else None

        return await self._run(find)

    async def finalize(self, outcome: PaymentOutcome) -> bool:
        sql = (
            "UPDATE ayolinx_payments SET state = 'final', next_poll_at = NULL, outcome = ?1,"
            " source = ?2, decided_at = ?3, status = ?4, paid_amount = ?5, detail = ?6,"
            " deliver_at = ?3 WHERE reference = ?7 AND state = 'pending'"
        )
        values = _columns.finalize_values(outcome)
        return await self._run(lambda c: c.execute(sql, values).rowcount == 1)

    async def note_status(self, reference: str, status: str | None) -> None:
        sql = "UPDATE ayolinx_payments SET last_status = ? WHERE reference = ?"
        if status is not None:
            await self._run(lambda c: c.execute(sql, (status, reference)))

    async def take_tokens(self, now: float, rate: float, burst: float, want: int) -> int:
        def take(c: sqlite3.Connection) -> int:
            with _immediate(c):
                row = c.execute("SELECT tokens, updated_at FROM ayolinx_rate").fetchone()
                tokens = (
                    burst if row is None else min(burst, row[0] + max(0.0, now - row[1]) * rate)
                )
                granted = max(0, min(want, int(tokens)))
                c.execute(
                    "INSERT INTO ayolinx_rate (id, tokens, updated_at) VALUES (1, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET tokens = excluded.tokens,"
                    " updated_at = excluded.updated_at",
                    (tokens - granted, now),
                )
                return granted

        return await self._run(take)

    async def refund_tokens(self, count: int, burst: float) -> None:
        sql = "UPDATE ayolinx_rate SET tokens = MIN(?, tokens + ?)"
        if count > 0:
            await self._run(lambda c: c.execute(sql, (burst, count)))

    async def claim_polls(
        self, now: float, limit: int, schedule: PollSchedule
    ) -> list[TrackedPayment]:
        def claim(c: sqlite3.Connection) -> list[TrackedPayment]:
            with _immediate(c):
                rows = c.execute(
                    f"SELECT {_columns.PAYMENT_COLUMNS} FROM ayolinx_payments"
                    " WHERE state = 'pending' AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?",
                    (now, limit),
                ).fetchall()
                claimed = []
                for row in rows:
                    payment = _payment(row)
                    due = next_poll(payment, now, schedule)
                    c.execute(
                        "UPDATE ayolinx_payments SET polls = polls + 1, next_poll_at = ?"
                        " WHERE reference = ?",
                        (due, payment.reference),
                    )
                    claimed.append(payment)
                return claimed

        found = await self._run(claim)
        return [_claimed(p, now, schedule) for p in found]

    async def claim_deliveries(
        self, now: float, limit: int, lease: float, reference: str | None = None
    ) -> list[Delivery]:
        def claim(c: sqlite3.Connection) -> list[Delivery]:
            where = "outcome IS NOT NULL AND delivered = 0 AND deliver_at <= ?"
            args: tuple[Any, ...] = (now, limit)
            if reference is not None:
                where += " AND reference = ?"
                args = (now, reference, limit)
            with _immediate(c):
                rows = c.execute(
                    f"SELECT {_OUTCOME_COLUMNS}, attempts, done FROM ayolinx_payments"
                    f" WHERE {where} ORDER BY deliver_at LIMIT ?",
                    args,
                ).fetchall()
                for row in rows:
                    c.execute(
                        "UPDATE ayolinx_payments SET deliver_at = ?, attempts = attempts + 1"
                        " WHERE reference = ?",
                        (now + lease, row["reference"]),
                    )
            return [
                Delivery(
                    outcome=_outcome(row),
                    attempt=row["attempts"] + 1,
                    done=frozenset(filter(None, row["done"].split("\n"))),
                )
                for row in rows
            ]

        return await self._run(claim)

    async def listener_done(self, reference: str, name: str) -> None:
        sql = "UPDATE ayolinx_payments SET done = done || ? WHERE reference = ?"
        await self._run(lambda c: c.execute(sql, (name + "\n", reference)))

    async def delivered(self, reference: str) -> None:
        sql = "UPDATE ayolinx_payments SET delivered = 1, last_error = NULL WHERE reference = ?"
        await self._run(lambda c: c.execute(sql, (reference,)))

    async def retry_delivery(self, reference: str, at: float, error: str) -> None:
        sql = "UPDATE ayolinx_payments SET deliver_at = ?, last_error = ? WHERE reference = ?"
        await self._run(lambda c: c.execute(sql, (at, error, reference)))

    async def outcome(self, reference: str) -> tuple[PaymentOutcome, bool] | None:
        sql = (
            f"SELECT {_OUTCOME_COLUMNS}, delivered FROM ayolinx_payments"
            " WHERE reference = ? AND outcome IS NOT NULL"
        )

        def read(c: sqlite3.Connection) -> tuple[PaymentOutcome, bool] | None:
            row = c.execute(sql, (reference,)).fetchone()
            if row is None:
                return None
            values = dict(row)
            values.pop("delivered")
            return _columns.outcome_from_columns(**values), bool(row["delivered"])

        return await self._run(read)

    async def stats(self) -> TrackerStats:
        def read(c: sqlite3.Connection) -> TrackerStats:
            counts = c.execute(
                "SELECT state, outcome, SUM(outcome IS NOT NULL AND delivered = 0) AS undelivered,"
                " COUNT(*) AS n FROM ayolinx_payments GROUP BY state, outcome"
            ).fetchall()
            oldest = c.execute(
                "SELECT reference, created_at FROM ayolinx_payments WHERE state = 'pending'"
                " ORDER BY created_at LIMIT 1"
            ).fetchone()
            due = c.execute(
                "SELECT MIN(next_poll_at) FROM ayolinx_payments WHERE state = 'pending'"
            ).fetchone()[0]
            return _columns.stats_from_counts(
                [(r["state"], r["outcome"], r["undelivered"], r["n"]) for r in counts],
                tuple(oldest) if oldest is not None else None,
                due,
            )

        return await self._run(read)


def _claimed(payment: TrackedPayment, now: float, schedule: PollSchedule) -> TrackedPayment:
    """A claimed payment as the store now holds it (one more poll, the next one scheduled)."""
    return attrs.evolve(
        payment, polls=payment.polls + 1, next_poll_at=next_poll(payment, now, schedule)
    )


class _immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): the write lock up front."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._connection.execute("COMMIT" if exc_type is None else "ROLLBACK")

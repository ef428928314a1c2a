"""The PostgreSQL store (``asyncpg``, the ``[postgres]`` extra): many pollers on many hosts.

Claims are one statement each, ``SELECT … FOR UPDATE SKIP LOCKED`` feeding an ``UPDATE``, so
pollers never wait on each other and never claim the same row; the claimed row's
``next_poll_at`` moves past its backoff at once, which is its lease. The global rate limit is
a token bucket in one row. The schema is created and migrated by the store itself (versioned,
under an advisory lock). asyncpg runs on asyncio only.
"""

# ruff: noqa: S608 (SQL is built only from the constant column lists; values are bound)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError
from . import _columns
from ._model import Delivery, PaymentOutcome, PollSchedule, TrackedPayment, TrackerStats

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped,unused-ignore]

__all__ = ["SCHEMA_VERSION", "PostgresTrackerStore"]

_TYPES = _columns.ColumnTypes(
    seconds="DOUBLE PRECISION", flag="BOOLEAN", false="FALSE", names="TEXT[]", no_names="'{}'"
)

#: Migrations, in order; ``ayolinx_tracker_schema`` records how many ran.
_MIGRATIONS: tuple[str, ...] = (
    _columns.payments_table("CREATE TABLE", _TYPES)
    + """
    CREATE INDEX ayolinx_payments_due ON ayolinx_payments (next_poll_at)
        WHERE state = 'pending';
    CREATE INDEX ayolinx_payments_outbox ON ayolinx_payments (deliver_at)
        WHERE outcome IS NOT NULL AND NOT delivered;
    CREATE INDEX ayolinx_payments_alias ON ayolinx_payments (alias) WHERE alias IS NOT NULL;
    CREATE TABLE ayolinx_rate (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tokens DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    INSERT INTO ayolinx_rate (id, tokens, updated_at) VALUES (1, 0, 0);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_OUTCOME = (
    "p.reference, p.product, p.outcome AS kind, p.source, p.decided_at, p.status, p.channel,"
    " p.amount, p.paid_amount, p.detail"
)
_OUTCOME_KEYS = (
    "reference",
    "product",
    "kind",
    "source",
    "decided_at",
    "status",
    "channel",
    "amount",
    "paid_amount",
    "detail",
)

_CLAIM_POLLS = f"""
WITH due AS (
    SELECT reference FROM ayolinx_payments
    WHERE state = 'pending' AND next_poll_at <= $1
    ORDER BY next_poll_at LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE ayolinx_payments AS p SET
    polls = p.polls + 1,
    next_poll_at = CASE
        WHEN $1 < p.poll_until THEN LEAST($1 + ($3::float8[])[LEAST(p.polls + 2, $4)], p.poll_until)
        ELSE $1 + ($3::float8[])[LEAST(p.polls + 2, $4)]
    END
FROM due WHERE p.reference = due.reference
RETURNING {", ".join("p." + c.strip() for c in _columns.PAYMENT_COLUMNS.split(","))}
"""

_CLAIM_DELIVERIES = f"""
WITH due AS (
    SELECT reference FROM ayolinx_payments
    WHERE outcome IS NOT NULL AND NOT delivered AND deliver_at <= $1
        AND ($4::text IS NULL OR reference = $4)
    ORDER BY deliver_at LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE ayolinx_payments AS p SET deliver_at = $1 + $3, attempts = p.attempts + 1
FROM due WHERE p.reference = due.reference
RETURNING {_OUTCOME}, p.attempts, p.done
"""

_TAKE_TOKENS = """
WITH cur AS (
    SELECT LEAST($3::float8, tokens + GREATEST(0, $1::float8 - updated_at) * $2::float8) AS t
    FROM ayolinx_rate WHERE id = 1 FOR UPDATE
), g AS (
    SELECT t, GREATEST(0, LEAST($4::int, floor(t)::int)) AS granted FROM cur
)
UPDATE ayolinx_rate SET tokens = g.t - g.granted, updated_at = GREATEST(updated_at, $1)
FROM g WHERE id = 1 RETURNING g.granted
"""


def _import_asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise ConfigurationError(
            "the PostgreSQL tracker store needs asyncpg: pip install 'ayolinx-async[postgres]'"
        ) from None
    return asyncpg


def _check_asyncio() -> None:
    import sniffio

    if sniffio.current_async_library() != "asyncio":
        raise ConfigurationError("the PostgreSQL tracker store (asyncpg) runs on asyncio only")


class PostgresTrackerStore:
    """Tracked payments in PostgreSQL: ``PostgresTrackerStore("postgresql://…")``.

    ``pool_size`` bounds the connections this process opens.
    """

    def __init__(self, dsn: str, *, pool_size: int = 5) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return "<PostgresTrackerStore>"  # the DSN may carry a password

    @property
    def _p(self) -> asyncpg.Pool:
        if self._pool is None:
            raise ConfigurationError(
                "the PostgreSQL tracker store is not open (async with tracker)"
            )
        return self._pool

    async def open(self) -> None:
        if self._pool is not None:
            return
        _check_asyncio()
        asyncpg = _import_asyncpg()
        pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._pool_size)
        try:
            async with pool.acquire() as c, c.transaction():
                await c.execute("SELECT pg_advisory_xact_lock(hashtext('ayolinx_tracker'))")
                await c.execute(
                    "CREATE TABLE IF NOT EXISTS ayolinx_tracker_schema (version INTEGER NOT NULL)"
                )
                version = await c.fetchval("SELECT max(version) FROM ayolinx_tracker_schema") or 0
                if version > SCHEMA_VERSION:
                    raise ConfigurationError(
                        f"the database has tracker schema {version}; this SDK knows up to"
                        f" {SCHEMA_VERSION}: upgrade ayolinx-async"
                    )
                for number, migration in enumerate(_MIGRATIONS[version:], start=version + 1):
                    await c.execute(migration)
                    await c.execute("INSERT INTO ayolinx_tracker_schema VALUES ($1)", number)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def add(self, payment: TrackedPayment) -> bool:
        status = await self._p.execute(
            f"INSERT INTO ayolinx_payments ({_columns.PAYMENT_COLUMNS}) VALUES"
            " ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT (reference) DO NOTHING",
            *_columns.payment_values(payment),
        )
        return bool(status == "INSERT 0 1")

    async def find(self, key: str) -> TrackedPayment | None:
        row = await self._p.fetchrow(
            f"SELECT {_columns.PAYMENT_COLUMNS} FROM ayolinx_payments"
            " WHERE reference = $1 OR alias = $1 ORDER BY reference = $1 DESC LIMIT 1",
            key,
        )
        return _columns.payment_from_columns(**dict(row)) if row is not None else None

    async def finalize(self, outcome: PaymentOutcome) -> bool:
        status = await self._p.execute(
            "UPDATE ayolinx_payments SET state = 'final', next_poll_at = NULL, outcome = $1,"
            " source = $2, decided_at = $3, status = $4, paid_amount = $5, detail = $6,"
            " deliver_at = $3 WHERE reference = $7 AND state = 'pending'",
            *_columns.finalize_values(outcome),
        )
        return bool(status == "UPDATE 1")

    async def note_status(self, reference: str, status: str | None) -> None:
        if status is not None:
            await self._p.execute(
                "UPDATE ayolinx_payments SET last_status = $1 WHERE reference = $2",
                status,
                reference,
            )

    async def take_tokens(self, now: float, rate: float, burst: float, want: int) -> int:
        granted = await self._p.fetchval(_TAKE_TOKENS, now, rate, burst, want)
        return int(granted or 0)

    async def refund_tokens(self, count: int, burst: float) -> None:
        if count > 0:
            await self._p.execute(
                "UPDATE ayolinx_rate SET tokens = LEAST($1::float8, tokens + $2) WHERE id = 1",
                burst,
                count,
            )

    async def claim_polls(
        self, now: float, limit: int, schedule: PollSchedule
    ) -> list[TrackedPayment]:
        delays = list(schedule.delays)
        rows = await self._p.fetch(_CLAIM_POLLS, now, limit, delays, len(delays))
        return [_columns.payment_from_columns(**dict(row)) for row in rows]

    async def claim_deliveries(
        self, now: float, limit: int, lease: float, reference: str | None = None
    ) -> list[Delivery]:
        rows = await self._p.fetch(_CLAIM_DELIVERIES, now, limit, lease, reference)
        return [
            Delivery(
                outcome=_columns.outcome_from_columns(**{k: row[k] for k in _OUTCOME_KEYS}),
                attempt=row["attempts"],
                done=frozenset(row["done"]),
            )
            for row in rows
        ]

    async def listener_done(self, reference: str, name: str) -> None:
        await self._p.execute(
            "UPDATE ayolinx_payments SET done = array_append(done, $1) WHERE reference = $2",
            name,
            reference,
        )

    async def delivered(self, reference: str) -> None:
        await self._p.execute(
            "UPDATE ayolinx_payments SET delivered = TRUE, last_error = NULL WHERE reference = $1",
            reference,
        )

    async def retry_delivery(self, reference: str, at: float, error: str) -> None:
        await self._p.execute(
            "UPDATE ayolinx_payments SET deliver_at = $1, last_error = $2 WHERE reference = $3",
            at,
            error,
            reference,
        )

    async def outcome(self, reference: str) -> tuple[PaymentOutcome, bool] | None:
        row = await self._p.fetchrow(
            f"SELECT {_OUTCOME}, p.delivered FROM ayolinx_payments AS p"
            " WHERE p.reference = $1 AND p.outcome IS NOT NULL",
            reference,
        )
        if row is None:
            return None
        outcome = _columns.outcome_from_columns(**{k: row[k] for k in _OUTCOME_KEYS})
        return outcome, bool(row["delivered"])

    async def stats(self) -> TrackerStats:
        async with self._p.acquire() as c:
            counts = await c.fetch(
                "SELECT state, outcome, count(*) FILTER (WHERE outcome IS NOT NULL"
                " AND NOT delivered) AS undelivered, count(*) AS n FROM ayolinx_payments"
                " GROUP BY state, outcome"
            )
            oldest = await c.fetchrow(
                "SELECT reference, created_at FROM ayolinx_payments WHERE state = 'pending'"
                " ORDER BY created_at LIMIT 1"
            )
            due = await c.fetchval(
                "SELECT min(next_poll_at) FROM ayolinx_payments WHERE state = 'pending'"
            )
        return _columns.stats_from_counts(
            [(r["state"], r["outcome"], r["undelivered"], r["n"]) for r in counts],
            (oldest["reference"], oldest["created_at"]) if oldest is not None else None,
            due,
        )

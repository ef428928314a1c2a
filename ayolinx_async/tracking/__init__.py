"""Never lose a payment: callbacks and polling merged into exactly one outcome per payment.

``PaymentTracker(client, store="payments.db")`` records created payments, takes verified
callbacks (``tracker.feed`` as a ``CallbackHandler`` listener) and polls the status queries on
a backoff schedule under a global rate limit. Each payment ends with exactly one
:class:`PaymentOutcome`, delivered to ``on_outcome`` listeners through an outbox. Stores:
memory, SQLite (embedded, survives restarts) and PostgreSQL (``[postgres]``, many hosts).
"""

from ._model import (
    Delivery,
    OutcomeKind,
    OutcomeSource,
    PaymentOutcome,
    PaymentState,
    PollSchedule,
    TrackedPayment,
    TrackerStats,
)
from ._postgres import PostgresTrackerStore
from ._sqlite import SQLiteTrackerStore
from ._stores import MemoryTrackerStore, TrackerStore
from ._tracker import OutcomeListener, PaymentTracker, open_store

__all__ = [
    "Delivery",
    "MemoryTrackerStore",
    "OutcomeKind",
    "OutcomeListener",
    "OutcomeSource",
    "PaymentOutcome",
    "PaymentState",
    "PaymentTracker",
    "PollSchedule",
    "PostgresTrackerStore",
    "SQLiteTrackerStore",
    "TrackedPayment",
    "TrackerStats",
    "TrackerStore",
    "open_store",
]

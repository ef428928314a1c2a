"""The simulator's books: transactions and their status moves (docs/protocol.md §14),
external-id memory.

Everything here is synchronous and called from one event loop, so a check-then-record is atomic
without locks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from .._endpoints import PaymentProduct
from .._wire import JAKARTA

__all__ = [
    "STATUS_DESCRIPTIONS",
    "ExternalIdRegistry",
    "Ledger",
    "LookupFailed",
    "Order",
    "Transaction",
    "TransitionRefused",
]


#: ``latestTransactionStatus`` codes and their descriptions (docs/protocol.md §14).
STATUS_DESCRIPTIONS: Mapping[str, str] = {
    "00": "Success",
    "01": "Initiated",
    "02": "Paying",
    "03": "Pending",
    "04": "Refunded",
    "05": "Canceled",
    "06": "Failed",
    "07": "Not found",
}

_OPEN = frozenset({"01", "02", "03"})
_TARGETS_FROM_OPEN = frozenset({"00", "02", "03", "05", "06"})


class TransitionRefused(ValueError):
    """A status move the ledger does not allow (e.g. paying a canceled QR)."""


class LookupFailed(LookupError):
    """No transaction, or more than one, matches a reference."""


@attrs.frozen(kw_only=True, slots=True)
class Order:
    """What every create call asks for: the merchant's reference, the amount and currency, the
    channel, the expiry and where to notify (docs/protocol.md §17)."""

    partner_reference_no: str
    amount: tuple[Decimal, str]
    channel: str
    expires_at: float
    notify_url: str | None


@attrs.frozen(kw_only=True, slots=True)
class Transaction:
    """One ledger row, frozen: a status move records a new value in its place.

    ``reference_no`` is the simulator's (Ayolinx's) reference, ``partner_reference_no`` the
    merchant's (for payment links: the link id). ``details`` holds product-specific data such as
    ``qrContent`` or the VA number.
    """

    reference_no: str
    partner_reference_no: str
    product: PaymentProduct
    client_key: str
    channel: str
    amount: Decimal
    currency: str
    status: str
    status_desc: str
    created_at: float
    updated_at: float
    finished_at: float | None
    expires_at: float | None
    notify_url: str | None
    paid_channel: str | None
    details: Mapping[str, Any]
    history: tuple[tuple[float, str], ...]

    @property
    def is_final(self) -> bool:
        return self.status not in _OPEN

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the admin routes."""
        return {
            "referenceNo": self.reference_no,
            "partnerReferenceNo": self.partner_reference_no,
            "product": self.product.value,
            "channel": self.channel,
            "paidChannel": self.paid_channel,
            "amount": {"value": f"{self.amount:.2f}", "currency": self.currency},
            "latestTransactionStatus": self.status,
            "transactionStatusDesc": self.status_desc,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "finishedTime": _iso(self.finished_at) if self.finished_at is not None else None,
            "expiresAt": _iso(self.expires_at) if self.expires_at is not None else None,
            "notifyUrl": self.notify_url,
            "details": dict(self.details),
            "history": [{"at": _iso(at), "status": status} for at, status in self.history],
        }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), JAKARTA).isoformat()


class Ledger:
    """All transactions, indexed by the simulator's reference and by (merchant, product, ref).

    Rows are frozen :class:`Transaction` values: a status move stores a new one in their place.
    """

    def __init__(self) -> None:
        self._by_reference: dict[str, Transaction] = {}
        self._by_partner: dict[tuple[str, PaymentProduct, str], str] = {}
        self._by_partner_only: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._by_reference)

    def __iter__(self) -> Iterator[Transaction]:
        return iter(self._by_reference.values())

    def has_partner_reference(
        self, client_key: str, product: PaymentProduct, reference: str
    ) -> bool:
        return (client_key, product, reference) in self._by_partner

    def open(
        self,
        order: Order,
        *,
        reference_no: str,
        product: PaymentProduct,
        client_key: str,
        now: float,
        details: Mapping[str, Any],
    ) -> Transaction:
        """Record ``order`` as ``client_key``'s transaction ``reference_no``, status ``01``."""
        key = (client_key, product, order.partner_reference_no)
        if key in self._by_partner or reference_no in self._by_reference:
            raise ValueError("duplicate transaction reference")
        amount, currency = order.amount
        txn = Transaction(
            reference_no=reference_no,
            partner_reference_no=order.partner_reference_no,
            product=product,
            client_key=client_key,
            channel=order.channel,
            amount=amount,
            currency=currency,
            status="01",
            status_desc=STATUS_DESCRIPTIONS["01"],
            created_at=now,
            updated_at=now,
            finished_at=None,
            expires_at=order.expires_at,
            notify_url=order.notify_url,
            paid_channel=None,
            details=dict(details),
            history=((now, "01"),),
        )
        self._by_reference[reference_no] = txn
        self._by_partner[key] = reference_no
        self._by_partner_only.setdefault(order.partner_reference_no, []).append(reference_no)
        return txn

    def find(self, client_key: str, product: PaymentProduct, reference: str) -> Transaction | None:
        """The merchant's transaction with partner reference ``reference`` in ``product``."""
        reference_no = self._by_partner.get((client_key, product, reference))
        return self._by_reference[reference_no] if reference_no is not None else None

    def get(self, reference: str) -> Transaction:
        """Look up by the simulator's reference, else by a partner reference that is unique."""
        txn = self._by_reference.get(reference)
        if txn is not None:
            return txn
        matches = self._by_partner_only.get(reference, [])
        if not matches:
            raise LookupFailed(f"no transaction with reference {reference!r}")
        if len(matches) > 1:
            raise LookupFailed(
                f"reference {reference!r} is ambiguous; use the simulator's referenceNo"
            )
        return self._by_reference[matches[0]]

    def move(
        self,
        reference: str,
        status: str,
        now: float,
        *,
        description: str | None = None,
        paid_channel: str | None = None,
        amount: Decimal | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Transaction:
        """Move a transaction to ``status``; raises :class:`TransitionRefused` if not allowed.

        Open states (01/02/03) may go anywhere but 01/04/07; a success (00) may only be
        refunded (04); other final states never move again.
        """
        txn = self.get(reference)
        allowed = (txn.status in _OPEN and status in _TARGETS_FROM_OPEN) or (
            txn.status == "00" and status == "04"
        )
        if not allowed:
            raise TransitionRefused(
                f"transaction {txn.reference_no} is {txn.status}"
                f" ({txn.status_desc}); cannot move to {status}"
            )
        moved = attrs.evolve(
            txn,
            status=status,
            status_desc=description or STATUS_DESCRIPTIONS.get(status, status),
            updated_at=now,
            finished_at=txn.finished_at if status in _OPEN else now,
            paid_channel=txn.paid_channel if paid_channel is None else paid_channel,
            amount=txn.amount if amount is None else amount,
            details={**txn.details, **details} if details else txn.details,
            history=(*txn.history, (now, status)),
        )
        self._by_reference[txn.reference_no] = moved
        return moved


class ExternalIdRegistry:
    """X-EXTERNAL-ID values seen per merchant per Asia/Jakarta calendar day
    (docs/protocol.md §4)."""

    def __init__(self) -> None:
        self._day: date | None = None
        self._seen: set[tuple[str, str]] = set()

    def claim(self, client_key: str, external_id: str, now: float) -> bool:
        """Record the id; False if this merchant already used it today (nothing recorded)."""
        today = datetime.fromtimestamp(now, JAKARTA).date()
        if today != self._day:
            # A new Jakarta day: yesterday's ids may be used again.
            self._day = today
            self._seen.clear()
        key = (client_key, external_id)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

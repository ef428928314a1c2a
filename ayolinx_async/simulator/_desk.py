"""The ledger as the product endpoints see it: settings, references, uniqueness, lookups.

The product handlers (:mod:`._products`) validate a body and shape the answer; everything they
share about the books lives here.
"""

from __future__ import annotations

import random
import string
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._endpoints import Endpoint, PaymentProduct
from .._wire import JAKARTA
from ._accounts import MerchantAccount
from ._codes import Case, Outcome
from ._fields import Fields
from ._ledger import Ledger, Order, Transaction

__all__ = [
    "Desk",
    "Handled",
    "ProductSettings",
    "iso_jakarta",
    "money",
    "parse_admin_amount",
    "status_fields",
]

_LINK_ID_ALPHABET = string.ascii_letters + string.digits


def iso_jakarta(epoch: float) -> str:
    """``2025-01-10T11:12:12+07:00``."""
    return datetime.fromtimestamp(int(epoch), JAKARTA).isoformat()


def money(amount: Decimal, currency: str = "IDR") -> dict[str, str]:
    """The wire amount object: ``{"value": "10000.00", "currency": "IDR"}``."""
    return {"value": f"{amount:.2f}", "currency": currency}


@attrs.frozen(kw_only=True, slots=True)
class Handled:
    """A product answer: the outcome, the extra response fields, a new transaction."""

    outcome: Outcome
    fields: dict[str, Any]
    created: Transaction | None = None


@attrs.frozen(kw_only=True, slots=True)
class ProductSettings:
    """PaymentProduct defaults that the docs leave open (docs/protocol.md §20)."""

    qr_validity: float = 1800.0
    va_validity: float = 86400.0
    ewallet_validity: float = 3600.0
    link_validity: float = 86400.0
    #: Reproduce the payment-link ``expiryDate`` quirk: 7 h early yet labelled +07:00
    #: (docs/protocol.md §17.10).
    link_expiry_quirk: bool = True


def status_fields(txn: Transaction) -> dict[str, Any]:
    """What every status query answers (docs/protocol.md §17.2, §17.5, §17.7, §17.9)."""
    fields: dict[str, Any] = {
        "originalPartnerReferenceNo": txn.partner_reference_no,
        "originalReferenceNo": txn.reference_no,
        "latestTransactionStatus": txn.status,
        "transactionStatusDesc": txn.status_desc,
        "amount": money(txn.amount, txn.currency),
    }
    if txn.finished_at is not None:
        fields["finishedTime"] = iso_jakarta(txn.finished_at)
    return fields


class Desk:
    """The books behind the product endpoints. Holds no state of its own beyond settings."""

    def __init__(self, ledger: Ledger, rng: random.Random, settings: ProductSettings) -> None:
        self.ledger = ledger
        self.settings = settings
        self._rng = rng

    def digits(self, count: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(count))

    def new_reference(self, now: float) -> str:
        """An Ayolinx-style 35-digit transaction id: Jakarta ``yyyyMMddHHmmss`` + 21 digits."""
        stamp = datetime.fromtimestamp(int(now), JAKARTA).strftime("%Y%m%d%H%M%S")
        return stamp + self.digits(21)

    def new_link_id(self) -> str:
        """An 11-character payment-link id."""
        return "".join(self._rng.choice(_LINK_ID_ALPHABET) for _ in range(11))

    @staticmethod
    def checkout_url(origin: str, reference: str) -> str:
        """The simulator's payer page (stands in for DANA, the retail page, the link page)."""
        return f"{origin}/_simulator/checkout/{reference}"

    def unique(
        self,
        account: MerchantAccount,
        product: PaymentProduct,
        reference: str,
        f: Fields,
        field: str,
    ) -> None:
        """Refuse a reference this merchant already used for ``product``."""
        if self.ledger.has_partner_reference(account.client_key, product, reference):
            raise f.fail(Case.DUPLICATE_REFERENCE, field)

    def create(
        self,
        endpoint: Endpoint,
        account: MerchantAccount,
        order: Order,
        now: float,
        *,
        reference_no: str,
        details: dict[str, Any],
        answer: dict[str, Any],
    ) -> Handled:
        """Record ``order`` as the merchant's new transaction ``reference_no`` (status 01) and
        answer the create call with ``answer``."""
        assert endpoint.product is not None  # every create endpoint belongs to a product
        txn = self.ledger.open(
            order,
            reference_no=reference_no,
            product=endpoint.product,
            client_key=account.client_key,
            now=now,
            details=details,
        )
        return Handled(outcome=Outcome.success(endpoint), fields=answer, created=txn)

    def lookup(
        self,
        account: MerchantAccount,
        product: PaymentProduct,
        f: Fields,
        *,
        channel_required: bool,
    ) -> Transaction:
        """The transaction a status query or cancel names, or a ``NOT_FOUND`` refusal."""
        reference = f.required_text("originalPartnerReferenceNo")
        channel = f.channel(required=channel_required)
        txn = self.ledger.find(account.client_key, product, reference)
        if txn is None or (channel is not None and channel != txn.channel):
            raise f.fail(Case.NOT_FOUND)
        return txn


def parse_admin_amount(value: object) -> Decimal:
    """An amount given to the admin API (``"10000.00"``, ``10000``); positive."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("amount must be a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be positive")
    if amount.adjusted() > 12:  # the wire holds at most "9999999999999.99" (16 characters)
        raise ValueError("amount is too large")
    return amount.quantize(Decimal("0.01"))

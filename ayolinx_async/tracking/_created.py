"""What a resource's create tells the tracker: the facts read from the body it sent, the
request model and the typed answer (a payment link's id)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

__all__ = ["CreatedFacts", "created_facts"]

#: Request fields that carry a create's expiry, per product (first one set wins).
_EXPIRY_FIELDS = ("valid_up_to", "validity_period", "expired_date", "expiry_time")
#: Body keys that carry the amount: most products, then the VA's ``totalAmount``.
_AMOUNT_KEYS = ("amount", "totalAmount")


@attrs.frozen(kw_only=True, slots=True)
class CreatedFacts:
    reference: str | None
    amount: Decimal | None
    currency: str
    channel: str | None
    expires_at: datetime | None
    alias: str | None


def _amount(body: Mapping[str, Any]) -> tuple[Decimal | None, str]:
    for key in _AMOUNT_KEYS:
        value = body.get(key)
        if isinstance(value, Mapping) and value.get("value") is not None:
            try:
                return Decimal(str(value["value"])), str(value.get("currency") or "IDR")
            except InvalidOperation:
                return None, "IDR"
    return None, "IDR"


def created_facts(request: object, body: Mapping[str, Any], response: object) -> CreatedFacts:
    """The tracked facts of a create; payment links are priced by their items (no amount)."""
    reference = body.get("partnerReferenceNo") or body.get("trxId")
    info = body.get("additionalInfo")
    channel = info.get("channel") if isinstance(info, Mapping) else None
    amount, currency = _amount(body)
    expiry = next(
        (
            value
            for value in (getattr(request, name, None) for name in _EXPIRY_FIELDS)
            if isinstance(value, datetime) and value.tzinfo is not None
        ),
        None,
    )
    alias = getattr(response, "link_id", None)
    return CreatedFacts(
        reference=str(reference) if reference else None,
        amount=amount,
        currency=currency,
        channel=str(channel) if channel else None,
        expires_at=expiry,
        alias=str(alias) if alias else None,
    )

"""A complete FastAPI merchant app that receives every Ayolinx callback.

Run it::

    export AYOLINX_CLIENT_KEY=... AYOLINX_CLIENT_SECRET=... AYOLINX_PUBLIC_KEY_FILE=ayolinx.pem
    uvicorn examples.fastapi_app:app_from_env --factory --host 0.0.0.0 --port 8000

Register ``https://<your host><AYOLINX_CALLBACK_PATH>`` as the notify URL for QRIS, e-wallet,
VA, retail and payment links (back office or ``urlParams`` NOTIFICATION). Make that path secret:
generate it once with ``python -c "from ayolinx_async.callbacks import secret_notify_path;
print(secret_notify_path())"`` and keep it in your configuration. For SNAP VA, Ayolinx calls
``/v1.0/access-token/b2b`` and then ``/v1.0/transfer-va/payment`` on the same host.

A genuinely signed callback may still be about someone else's payment (Ayolinx signs no merchant
identity), so an order is marked paid only when the paid amount equals the order's amount; pass
``confirm_with=<your AyolinxClient>`` to also confirm every paid or final status with your own
status query before the listener sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Body, FastAPI, HTTPException

from ayolinx_async.callbacks import (
    DEFAULT_NOTIFY_PATH,
    CallbackEvent,
    CallbackHandler,
    NotifyRoute,
    PaymentLinkNotification,
    TokenRoute,
    VaPaymentRequest,
    VaPaymentRoute,
)
from ayolinx_async.integrations.fastapi import callback_router
from ayolinx_async.models import Amount, TransactionStatus
from ayolinx_async.signing import PublicKeySource

log = logging.getLogger("merchant")

Listener = Callable[[CallbackEvent], Awaitable[object]]


def _order_and_amount(event: CallbackEvent) -> tuple[str, Amount | None]:
    """Which order a callback is about (your reference; the link id for payment links)."""
    if isinstance(event, VaPaymentRequest):
        return event.trx_id or event.virtual_account_no.strip(), event.paid_amount
    if isinstance(event, PaymentLinkNotification):
        return event.plh, event.amount
    return event.original_partner_reference_no or event.reference, event.amount


class Orders:
    """Stand-in for the merchant's database: the latest known state of each order."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, Any]] = {}

    def open(self, order: str, amount: Decimal) -> None:
        """Record an order and the amount it must be paid with (before creating the payment)."""
        self.state[order] = {
            "status": None,
            "amount": f"{amount:.2f}",
            "event": None,
            "channel": None,
        }

    async def record(self, event: CallbackEvent) -> None:
        """Apply one verified, de-duplicated callback. Raise here to make Ayolinx redeliver."""
        order, amount = _order_and_amount(event)
        previous = self.state.get(order)
        if previous is not None and event.status.is_success and previous["amount"] is not None:
            expected = Decimal(previous["amount"])
            if amount is None or amount.value != expected or amount.currency != "IDR":
                # A signed callback for someone else's (or a smaller) payment: never mark paid.
                # Acknowledge: a redelivery cannot fix it.
                log.warning("order %s: paid amount does not match the order; ignored", order)
                return
        elif previous is None:
            # A real shop refuses an order it never opened; this demo books it to show it.
            log.warning("order %s: callback for an order this shop never opened", order)
        if (
            previous
            and previous["status"] == TransactionStatus.SUCCESS
            and not event.status.is_success
        ):
            # A terminal status after success must never overwrite it (docs/protocol.md §14).
            log.warning("order %s: %s after SUCCESS ignored", order, event.status)
            return
        self.state[order] = {
            "status": event.status,
            "amount": str(amount.value) if amount else None,
            "event": type(event).__name__,
            "channel": event.channel,
        }
        log.info("order %s is now %s (%s)", order, event.status.name, type(event).__name__)


def create_app(
    *,
    client_key: str | None = None,
    client_secret: str | None = None,
    ayolinx_public_key: PublicKeySource | None = None,
    callback_path: str = DEFAULT_NOTIFY_PATH,
    on_event: Listener | None = None,
    from_env: bool = False,
    **handler_options: Any,
) -> FastAPI:
    """Build the merchant app; ``on_event`` (if given) runs before the order book is updated,
    ``handler_options`` go to :class:`CallbackHandler` (clock, stores, tolerance …);
    ``from_env=True`` reads the credentials with :meth:`CallbackHandler.from_env` instead."""
    orders = Orders()
    listeners = [on_event, orders.record] if on_event else orders.record
    if from_env:
        # A missing variable is a ConfigurationError naming it, never a KeyError.
        handler = CallbackHandler.from_env(on_event=listeners, **handler_options)
    else:
        if client_key is None or client_secret is None or ayolinx_public_key is None:
            raise TypeError(
                "pass client_key, client_secret and ayolinx_public_key, or from_env=True"
            )
        handler = CallbackHandler(
            client_key=client_key,
            client_secret=client_secret,
            ayolinx_public_keys=ayolinx_public_key,
            on_event=listeners,
            routes=(NotifyRoute(path=callback_path), TokenRoute(), VaPaymentRoute()),
            **handler_options,
        )
    app = FastAPI(title="Merchant (Ayolinx callbacks)")
    app.include_router(callback_router(handler))
    app.state.orders = orders
    app.state.callback_handler = handler

    @app.put("/orders/{order}", status_code=201)
    async def open_order(order: str, amount: str = Body(embed=True)) -> Mapping[str, Any]:
        try:
            value = Decimal(amount)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value <= 0:
            raise HTTPException(status_code=422, detail="amount must be a positive decimal")
        orders.open(order, value)
        return orders.state[order]

    @app.get("/orders/{order}")
    async def order_state(order: str) -> Mapping[str, Any]:
        found = orders.state.get(order)
        if found is None:
            raise HTTPException(status_code=404, detail="unknown order")
        return found

    return app


def app_from_env() -> FastAPI:
    """Configured from ``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PUBLIC_KEY``
    (PEM) or ``AYOLINX_PUBLIC_KEY_FILE``, and optionally ``AYOLINX_CALLBACK_PATH``; a missing
    variable stops start-up with a message naming it."""
    logging.basicConfig(level=logging.INFO)
    return create_app(from_env=True)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000)

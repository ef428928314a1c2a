"""A FastAPI shop that takes QRIS payments end to end: ``POST /orders`` creates the payment with
the app's one :class:`~ayolinx_async.AyolinxClient`, Ayolinx's callback marks the order paid,
``GET /orders/{order}`` shows it.

Environment (read once, at start-up; a missing variable is a clear ``ConfigurationError``):

- ``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PRIVATE_KEY`` (PEM text) or
  ``AYOLINX_PRIVATE_KEY_FILE``, optional ``AYOLINX_ENVIRONMENT`` / ``AYOLINX_BASE_URL``;
- ``AYOLINX_PUBLIC_KEY`` or ``AYOLINX_PUBLIC_KEY_FILE`` (Ayolinx's key, for callbacks),
  optional ``AYOLINX_CALLBACK_PATH`` (make it secret: ``secret_notify_path()``);
- ``SHOP_PUBLIC_URL``: where Ayolinx reaches this app, e.g. ``https://shop.example.com``.

Run it::

    uvicorn examples.shop_app:app_from_env --factory --port 8000
    curl -X POST localhost:8000/orders -H 'content-type: application/json' -d '{"amount":"25000"}'

Every paid status is confirmed with the shop's own status query before the order changes
(``confirm_with``), and the paid amount must equal the order's amount.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import Body, FastAPI, HTTPException

from ayolinx_async import AyolinxClient, ValidationError
from ayolinx_async.callbacks import CallbackEvent, CallbackHandler, PaymentNotification
from ayolinx_async.integrations.fastapi import AyolinxClientDep, callback_router, client_lifespan
from ayolinx_async.models import Amount

log = logging.getLogger("shop")


class OrderBook:
    """Stand-in for the shop's database: amount and status of each order."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def open(self, amount: Decimal) -> str:
        order = "ORD-" + secrets.token_hex(6).upper()
        self.orders[order] = {"order": order, "amount": f"{amount:.2f}", "status": "PENDING"}
        return order

    async def on_event(self, event: CallbackEvent) -> None:
        """A verified, confirmed, de-duplicated callback. Raise to make Ayolinx redeliver."""
        if not isinstance(event, PaymentNotification):
            return  # this shop takes QRIS only; a SNAP VA payment would arrive here too
        reference = event.original_partner_reference_no or event.reference
        order = self.orders.get(reference)
        if order is None:
            log.warning("callback for an order this shop never opened: %s", reference)
            return
        paid = event.amount
        if event.status.is_success:
            if paid is None or f"{paid.value:.2f}" != order["amount"]:
                log.warning("order %s: paid amount does not match; not marked paid", order["order"])
                return
            order["status"] = "PAID"
        elif event.status.is_terminal and order["status"] != "PAID":
            order["status"] = event.status.name


def create_app(
    *,
    client: Callable[[], AyolinxClient] | AyolinxClient,
    handler: Callable[[OrderBook, AyolinxClient], CallbackHandler],
    public_url: str,
) -> FastAPI:
    """The shop: ``client`` makes payments (one for the app's lifetime), ``handler`` builds the
    callback handler for the order book, ``public_url`` is where Ayolinx sends callbacks."""
    book = OrderBook()
    payments = client if isinstance(client, AyolinxClient) else client()
    callbacks = handler(book, payments)
    notify_path = callbacks.routes[0].path
    app = FastAPI(title="Shop", lifespan=client_lifespan(payments))
    app.include_router(callback_router(callbacks))
    app.state.orders = book

    @app.post("/orders", status_code=201)
    async def create_order(
        client: AyolinxClientDep, amount: str = Body(embed=True)
    ) -> dict[str, Any]:
        try:
            # The SDK refuses ambiguous amounts ("25.000") with a hint, before anything is sent.
            price = Amount.of(amount)
        except ValidationError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        order = book.open(price.value)
        qr = await client.qris.generate(
            partner_reference_no=order,
            amount=price,
            notification_url=public_url.rstrip("/") + notify_path,
        )
        return {**book.orders[order], "qr_content": qr.qr_content}

    @app.get("/orders/{order}")
    async def order_state(order: str) -> dict[str, Any]:
        found = book.orders.get(order)
        if found is None:
            raise HTTPException(status_code=404, detail="unknown order")
        return found

    return app


def app_from_env() -> FastAPI:
    """The shop configured from the environment variables in the module docstring."""
    logging.basicConfig(level=logging.INFO)
    public_url = os.environ.get("SHOP_PUBLIC_URL")
    if not public_url:
        raise SystemExit("set SHOP_PUBLIC_URL: where Ayolinx reaches this app (https://…)")
    return create_app(
        client=AyolinxClient.from_env,
        handler=lambda book, client: CallbackHandler.from_env(
            on_event=book.on_event, confirm_with=client
        ),
        public_url=public_url,
    )

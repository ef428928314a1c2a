"""A complete FastAPI merchant app that receives every Ayolinx callback.

Run it::

    export AYOLINX_CLIENT_KEY=... AYOLINX_CLIENT_SECRET=... AYOLINX_PUBLIC_KEY_FILE=ayolinx.pem
    uvicorn examples.fastapi_app:app_from_env --factory --host 0.0.0.0 --port 8000

Register ``https://<your host>/ayolinx/notify`` as the notify URL for QRIS, e-wallet, VA,
retail and payment links (back office or ``urlParams`` NOTIFICATION). For SNAP VA, Ayolinx calls
``/v1.0/access-token/b2b`` and then ``/v1.0/transfer-va/payment`` on the same host.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException

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
from ayolinx_async.models import TransactionStatus
from ayolinx_async.signing import PublicKeySource

log = logging.getLogger("merchant")

Listener = Callable[[CallbackEvent], Awaitable[object]]


class Orders:
    """Stand-in for the merchant's database: the latest known state of each order."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, Any]] = {}

    async def record(self, event: CallbackEvent) -> None:
        """Apply one verified, de-duplicated callback. Raise here to make Ayolinx redeliver."""
        if isinstance(event, VaPaymentRequest):
            order = event.trx_id or event.virtual_account_no.strip()
            amount = event.paid_amount
        elif isinstance(event, PaymentLinkNotification):
            order, amount = event.plh, event.amount
        else:
            order, amount = event.original_partner_reference_no or event.reference, event.amount
        previous = self.state.get(order)
        if (
            previous
            and previous["status"] == TransactionStatus.SUCCESS
            and not event.status.is_success
        ):
            # A terminal status after success must never overwrite it (field notes §8.4).
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
    client_key: str,
    client_secret: str,
    ayolinx_public_key: PublicKeySource,
    callback_path: str = DEFAULT_NOTIFY_PATH,
    on_event: Listener | None = None,
    **handler_options: Any,
) -> FastAPI:
    """Build the merchant app; ``on_event`` (if given) runs before the order book is updated,
    ``handler_options`` go to :class:`CallbackHandler` (clock, stores, tolerance …)."""
    orders = Orders()
    handler = CallbackHandler(
        client_key=client_key,
        client_secret=client_secret,
        ayolinx_public_keys=ayolinx_public_key,
        on_event=[on_event, orders.record] if on_event else orders.record,
        routes=(NotifyRoute(path=callback_path), TokenRoute(), VaPaymentRoute()),
        **handler_options,
    )
    app = FastAPI(title="Merchant (Ayolinx callbacks)")
    app.include_router(callback_router(handler))
    app.state.orders = orders
    app.state.callback_handler = handler

    @app.get("/orders/{order}")
    async def order_state(order: str) -> Mapping[str, Any]:
        found = orders.state.get(order)
        if found is None:
            raise HTTPException(status_code=404, detail="unknown order")
        return found

    return app


def app_from_env() -> FastAPI:
    """``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PUBLIC_KEY`` (PEM) or
    ``AYOLINX_PUBLIC_KEY_FILE``, optional ``AYOLINX_CALLBACK_PATH``."""
    logging.basicConfig(level=logging.INFO)
    env = os.environ
    key: PublicKeySource = env.get("AYOLINX_PUBLIC_KEY") or Path(env["AYOLINX_PUBLIC_KEY_FILE"])
    return create_app(
        client_key=env["AYOLINX_CLIENT_KEY"],
        client_secret=env["AYOLINX_CLIENT_SECRET"],
        ayolinx_public_key=key,
        callback_path=env.get("AYOLINX_CALLBACK_PATH", DEFAULT_NOTIFY_PATH),
    )


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app_from_env(), host="127.0.0.1", port=8000)

"""The web-app recipe end to end (issue 14): ``examples/shop_app.py`` on a real loopback
server, one AyolinxClient for its lifetime (FastAPI lifespan + dependency), creating a QRIS
payment on ``POST /orders``; the simulator delivers the signed callback over TCP; the order
shows paid, confirmed by the shop's own status query."""

from __future__ import annotations

import socket

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient
from ayolinx_async.callbacks import CallbackHandler, NotifyRoute
from ayolinx_async.simulator._accounts import public_pem
from tests._servers import load_example, serve_uvicorn
from tests.conftest import CLIENT_KEY, CLIENT_SECRET
from tests.e2e._helpers import running_simulator

pytestmark = pytest.mark.anyio
NOTIFY_PATH = "/shop/hooks/ayolinx-7f3k"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # uvicorn serves on asyncio


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_shop_creates_a_qris_payment_and_shows_it_paid_after_the_callback(
    merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    shop = load_example("shop_app")
    port = _free_port()
    clients: list[AyolinxClient] = []
    async with running_simulator(merchant_key, ayolinx_key) as (sim, wire):

        def payments() -> AyolinxClient:
            clients.append(sim.client())
            return clients[-1]

        def handler(book: object, client: AyolinxClient) -> CallbackHandler:
            return CallbackHandler(
                client_key=CLIENT_KEY,
                client_secret=CLIENT_SECRET,
                ayolinx_public_keys=public_pem(ayolinx_key.public_key()),
                on_event=book.on_event,  # type: ignore[attr-defined]
                routes=(NotifyRoute(path=NOTIFY_PATH),),
                confirm_with=client,
            )

        app = shop.create_app(
            client=payments, handler=handler, public_url=f"http://127.0.0.1:{port}"
        )
        async with (
            serve_uvicorn(app, port=port, lifespan="on") as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=10, trust_env=False) as browser,
        ):
            refused = await browser.post("/orders", json={"amount": "25.000"})
            assert refused.status_code == 422
            assert "looks like an Indonesian thousands separator; pass 25000" in refused.text

            created = await browser.post("/orders", json={"amount": "25000"})
            assert created.status_code == 201, created.text
            order = created.json()
            assert order["status"] == "PENDING"
            assert order["amount"] == "25000.00"
            assert order["qr_content"].startswith("000201")

            (txn,) = [t for t in sim.transactions() if t.partner_reference_no == order["order"]]
            await sim.pay(txn.reference_no)
            await sim.drain(timeout=10)
            status = None
            for _ in range(200):  # the listener runs as the delivery is answered
                status = (await browser.get(f"/orders/{order['order']}")).json()["status"]
                if status == "PAID":
                    break
                await anyio.sleep(0.05)
            assert status == "PAID"
            # One delivery, to the shop's secret notify path, acknowledged at once.
            assert [(x.path, x.status_code) for x in wire.exchanges] == [(NOTIFY_PATH, 200)]
            # The shop confirmed the paid status with its own query, through its one client.
            queries = [r for r in sim.requests() if r.path == "/v1.0/qr/qr-mpm-query"]
            assert len(queries) == 1
        # One client for the app's lifetime, closed at shutdown.
        assert len(clients) == 1
        with pytest.raises(Exception, match="closed"):
            await clients[0].qris.query(original_partner_reference_no=order["order"])

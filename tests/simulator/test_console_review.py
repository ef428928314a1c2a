"""The console and checkout pages as a user and an attacker see them from outside: PAY_RETURN for
every product that can carry it, admin inputs that must not hurt the simulator, HEAD and 405,
and a console that stays fast and readable with hundreds of transactions."""

from __future__ import annotations

import re
import time

import anyio
import attrs
import httpx
import pytest

from ayolinx_async.models import UrlParam
from ayolinx_async.simulator import Simulator
from ayolinx_async.simulator._checkout import checkout_page
from tests.browser import _shop

from ._helpers import FORM, HTML, MerchantApp

pytestmark = pytest.mark.anyio


async def csrf(pages: httpx.AsyncClient) -> str:
    page = (await pages.get("/_simulator/console", headers=HTML)).text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the console"
    return found.group(1)


async def test_qris_and_retail_pay_return_the_payer_to_the_merchant_too(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    back = [UrlParam.pay_return("https://shop.example/back?o=7")]
    async with sim.client() as client:
        await client.qris.generate(partner_reference_no="PR-QR", amount="1000", url_params=back)
        await client.retail.create(
            partner_reference_no="PR-RT",
            amount="45000.00",
            channel="RETAIL_ALFAMART",
            valid_up_to=_shop.soon(),
            customer_name="Siti",
            customer_email="siti@example.com",
            url_params=back,
        )
        plain = await _shop.retail(client, sim, "PR-NONE")
    token = await csrf(pages)
    for reference in ("PR-QR", "PR-RT"):
        ref = sim.transaction(reference).reference_no
        page = (await pages.get(f"/_simulator/checkout/{ref}", headers=HTML)).text
        assert 'id="return-note"' in page
        assert "https://shop.example/back?o=7" in page
        # A returnTo of the form (even a foreign one) never beats the order's own PAY_RETURN.
        paid = await pages.post(
            f"/_simulator/transactions/{ref}/pay",
            headers=FORM,
            content=f"csrf={token}&returnTo=//evil.example/".encode(),
        )
        assert (paid.status_code, paid.headers["location"]) == (
            303,
            "https://shop.example/back?o=7",
        )
        done = (await pages.get(f"/_simulator/checkout/{ref}", headers=HTML)).text
        assert 'id="return-link" href="https://shop.example/back?o=7"' in done
    stayed = await pages.post(
        f"/_simulator/transactions/{plain}/pay",
        headers=FORM,
        content=f"csrf={token}&returnTo=javascript:alert(1)".encode(),
    )
    assert stayed.headers["location"] == f"/_simulator/checkout/{plain}"
    assert 'id="return-note"' not in stayed.text


async def test_a_non_http_return_url_is_never_linked(sim: Simulator) -> None:
    async with sim.client() as client:
        ref = await _shop.dana(client, sim, "PR-JS", return_url="https://shop.example/ok")
    await sim.pay(ref)
    paid = sim.transaction(ref)
    for url in ("javascript:alert(1)", "//evil.example/", "data:text/html,x"):
        forged = attrs.evolve(paid, details={**paid.details, "payReturnUrl": url})
        page = checkout_page(forged, 1).decode()
        assert 'id="return-link"' not in page, url
    assert 'id="return-link" href="https://shop.example/ok"' in checkout_page(paid, 1).decode()


async def test_fault_settings_that_would_stall_the_simulator_are_refused(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    for body in (
        {"inject": "error", "count": 10_001},
        {"inject": "error", "count": 0},
        {"latency": "nan"},
        {"jitter": "Infinity"},
        {"errorRate": "nan"},
        {"paths": "/v1.0/qr/qr-mpm-generate"},
        {"paths": [1, 2]},
    ):
        answer = await pages.post("/_simulator/faults", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"].startswith("bad fault settings"), body
    assert sim.fault_plan.pending_shots == 0
    token = await csrf(pages)
    for field in ("latency=inf", "jitter=nan", "dropRate=nan"):
        posted = await pages.post(
            "/_simulator/faults", headers=FORM, content=f"csrf={token}&form=faults&{field}".encode()
        )
        assert posted.status_code == 400, field
    assert sim.faults.latency == 0.0
    assert sim.faults.jitter == 0.0
    listed = await pages.post("/_simulator/faults", json={"paths": ["/v1.0/qr/qr-mpm-generate"]})
    assert listed.json()["paths"] == ["/v1.0/qr/qr-mpm-generate"]
    queued = await pages.post("/_simulator/faults", json={"inject": "error", "count": 10_000})
    assert queued.json()["pendingInjections"] == 10_000


async def test_an_absurd_paid_amount_is_a_400_not_a_crash(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        await client.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_BNI",
            trx_id="OPEN-1",
            customer_no="081234567890",
            virtual_account_name="Open",
            trx_type="O",
        )
    ref = sim.transaction("OPEN-1").reference_no
    for amount in ("1e999999", "99999999999999"):
        answer = await pages.post(f"/_simulator/transactions/{ref}/pay", json={"amount": amount})
        assert answer.status_code == 400, amount
    assert sim.transaction(ref).status == "01"
    paid = await pages.post(
        f"/_simulator/transactions/{ref}/pay", json={"amount": "9999999999999.99"}
    )
    assert paid.json()["amount"]["value"] == "9999999999999.99"


async def test_head_answers_like_get_and_other_methods_get_405_with_allow(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        ref = await _shop.qris(client, sim, "HEAD-1")
    for path in (
        "/_simulator/console",
        f"/_simulator/checkout/{ref}",
        "/_simulator/static/console.css",
        "/_simulator/transactions",
    ):
        got = await pages.get(path, headers=HTML)
        head = await pages.head(path, headers=HTML)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers.get("content-security-policy") == got.headers.get(
            "content-security-policy"
        )
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH"):
        answer = await pages.request(method, "/_simulator/console")
        assert answer.status_code == 405, method
        assert answer.headers["allow"] == "GET, HEAD, POST"
        page = await pages.request(method, "/_simulator/console", headers=HTML)
        assert page.headers["allow"] == "GET, HEAD, POST"
        assert page.headers["x-frame-options"] == "DENY"
    for path in ("/_simulator/transactions", "/_simulator/faults", "/_simulator/nope"):
        answer = await pages.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["cache-control"] == "no-store", path
    console = (await pages.get("/_simulator/console", headers=HTML)).text
    assert '<link rel="icon" href="data:,">' in console  # no /favicon.ico 404 per page view


async def test_a_console_with_500_transactions_and_1000_deliveries_is_fast_and_readable(
    pages: httpx.AsyncClient, sim: Simulator, merchant_app: MerchantApp
) -> None:
    async with sim.client() as client:
        limit = anyio.Semaphore(16)

        async def create(index: int) -> None:
            async with limit:
                await client.qris.generate(partner_reference_no=f"LOAD-{index:03d}", amount="1000")

        async with anyio.create_task_group() as group:
            for index in range(500):
                group.start_soon(create, index)
    for txn in sim.transactions():
        await sim.pay(txn.reference_no)
    await sim.drain(timeout=30)
    for delivery in sim.deliveries()[:500]:
        await sim.redeliver(delivery.id)
    await sim.drain(timeout=30)
    assert (len(sim.transactions()), len(sim.deliveries())) == (500, 1000)

    started = time.perf_counter()
    console = await pages.get("/_simulator/console", headers=HTML)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"console took {elapsed:.2f} s"
    assert console.text.count('<tr class="txn"') == 200
    assert "Showing the newest 200 of 500." in console.text
    assert 'href="/_simulator/console?rows=400">Show 200 more</a>' in console.text
    more = await pages.get("/_simulator/console?rows=400", headers=HTML)
    assert more.text.count('<tr class="txn"') == 400
    everything = await pages.get("/_simulator/console?rows=999999", headers=HTML)
    assert everything.text.count('<tr class="txn"') == 500
    assert 'id="show-more"' not in everything.text
    assert (await pages.get("/_simulator/console?rows=x", headers=HTML)).text.count(
        '<tr class="txn"'
    ) == 200

    started = time.perf_counter()
    for _ in range(20):  # twenty tabs polling once each
        assert (await pages.get("/_simulator/console/version")).status_code == 200
    per_poll = (time.perf_counter() - started) / 20
    assert per_poll < 0.02, f"a version poll took {per_poll * 1000:.1f} ms"

"""The console and checkout pages over HTTP (no browser): content negotiation, escaping, the CSRF
rule, secrets never shown, the live-refresh counter, redelivery and the PAY_RETURN redirect."""

from __future__ import annotations

import re

import httpx
import pytest

from ayolinx_async.simulator import Simulator
from tests.browser import _shop
from tests.conftest import CLIENT_SECRET
from tests.reliability._secret_watch import private_key_lines

from ._helpers import FORM, HTML, MerchantApp

pytestmark = pytest.mark.anyio


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def get_html(pages: httpx.AsyncClient, path: str) -> str:
    answer = await pages.get(path, headers=HTML)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


async def test_the_index_is_json_for_scripts_and_the_console_for_browsers(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    assert (await pages.get("/_simulator/")).json()["merchant"] == sim.merchant.client_key
    forced = await pages.get("/_simulator/?format=json", headers=HTML)
    assert forced.json()["simulator"] == "ayolinx"
    console = await pages.get("/_simulator/", headers=HTML)
    assert console.headers["content-type"] == "text/html; charset=utf-8"
    csp = console.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert console.headers["x-frame-options"] == "DENY"
    assert 'id="transactions"' in console.text
    assert "<script>" not in console.text  # no inline script: only the static file
    for name, kind in (("console.css", "text/css"), ("console.js", "text/javascript")):
        static = await pages.get(f"/_simulator/static/{name}")
        assert static.headers["content-type"].startswith(kind)
    assert (await pages.get("/_simulator/static/../_admin.py")).status_code == 404
    assert (await pages.get("/_simulator/static/nothing.js")).status_code == 404


async def test_request_values_render_as_text_everywhere(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        qr = await _shop.qris(client, sim, _shop.XSS_SCRIPT)
        link = await _shop.payment_link(
            client,
            sim,
            _shop.XSS_ATTR,
            names=(_shop.XSS_SCRIPT, _shop.XSS_IMG),
            customer=_shop.XSS_ATTR,
        )
        retail = await _shop.retail(client, sim, "RT-XSS", name=_shop.XSS_IMG)
    texts = [await get_html(pages, "/_simulator/console")]
    for ref in (qr, link, retail):
        texts.append(await get_html(pages, f"/_simulator/checkout/{ref}"))
        texts.append(await get_html(pages, f"/_simulator/console/transactions/{ref}"))
    for text in texts:
        for payload in (_shop.XSS_SCRIPT, _shop.XSS_ATTR, _shop.XSS_IMG, "<img", '"onerror='):
            assert payload not in text
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in texts[0]
    assert "&quot;onerror=window.__xss=1;alert(1)//" in texts[3]


async def test_browser_posts_need_the_csrf_token(pages: httpx.AsyncClient, sim: Simulator) -> None:
    async with sim.client() as client:
        ref = await _shop.qris(client, sim, "CSRF-1")
    token = csrf_of(await get_html(pages, f"/_simulator/checkout/{ref}"))
    pay = f"/_simulator/transactions/{ref}/pay"
    refused = [
        await pages.post(pay, headers=FORM, content=b""),
        await pages.post(pay, headers=FORM, content=b"csrf=wrong"),
        await pages.post(pay, headers={"content-type": "text/plain"}, content=f"csrf={token}"),
        await pages.post(pay, json={}, headers={"origin": "http://evil.example"}),
        await pages.post(pay, headers={"sec-fetch-site": "cross-site"}),
        await pages.post("/_simulator/faults", headers=FORM, content=b"form=faults&errorRate=1"),
        await pages.post("/_simulator/tokens/revoke", headers={**FORM, **HTML}),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    assert "CSRF" in refused[3].json()["error"]  # a script gets JSON, a person a page
    assert "CSRF" in refused[0].text
    assert "text/html" in refused[0].headers["content-type"]
    assert sim.transaction(ref).status == "01"
    assert sim.faults.error_rate == 0
    clicked = await pages.post(pay, headers=FORM, content=f"csrf={token}")
    assert clicked.status_code == 303
    assert sim.transaction(ref).status == "00"
    # Scripts and other languages: JSON, or nothing, from outside a browser, no token.
    async with sim.client() as client:
        other = await _shop.qris(client, sim, "CSRF-2")
    assert (await pages.post(f"/_simulator/transactions/{other}/fail", json={})).status_code == 200
    assert (await pages.post("/_simulator/tokens/revoke")).status_code == 200
    header = await pages.post(
        "/_simulator/faults", json={"latency": 0}, headers={"x-csrf-token": token, "origin": "x"}
    )
    assert header.status_code == 200


async def test_pages_never_show_the_secret_private_keys_or_tokens(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        ref = await _shop.qris(client, sim, "SECRET-1")
        token = await client.get_access_token()
    await sim.pay(ref)
    await sim.drain(timeout=5)
    assert sim.merchant.private_key is not None
    forbidden = [
        CLIENT_SECRET,
        token.value,
        *private_key_lines(sim.merchant.private_key),
    ]
    texts = [
        await get_html(pages, path)
        for path in (
            "/_simulator/console",
            f"/_simulator/console/transactions/{ref}",
            f"/_simulator/checkout/{ref}",
        )
    ]
    for text in texts:
        for secret in forbidden:
            assert secret not in text
    assert sim.merchant.client_key in texts[0]
    assert "BEGIN PUBLIC KEY" in texts[0]
    assert sim.ayolinx_public_pem.decode().splitlines()[1] in texts[0]


async def test_the_version_counter_grows_with_every_change(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async def version() -> int:
        value = (await pages.get("/_simulator/console/version")).json()["version"]
        assert isinstance(value, int)
        return value

    seen = [await version()]
    async with sim.client() as client:
        ref = await _shop.qris(client, sim, "VER-1")
    seen.append(await version())
    await sim.pay(ref)
    await sim.drain(timeout=5)
    seen.append(await version())
    assert seen == sorted(set(seen)), seen
    assert seen[-1] == await version()  # nothing changed: the pages do not reload
    page = await get_html(pages, "/_simulator/console")
    assert f'data-version="{seen[-1]}"' in page


async def test_detail_shows_the_signed_request_and_the_merchant_answer(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        ref = await _shop.qris(client, sim, "DET-1")
    await sim.pay(ref)
    await sim.drain(timeout=5)
    (delivery,) = sim.deliveries(ref)
    attempt = delivery.attempts[-1]
    headers = dict(attempt.request_headers)
    text = await get_html(pages, f"/_simulator/console/transactions/{ref}")
    assert f"X-TIMESTAMP: {headers['X-TIMESTAMP']}" in text
    assert f"X-SIGNATURE: {headers['X-SIGNATURE']}" in text
    assert 'class="badge delivered delivery-state"' in text
    assert "HTTP 200" in text
    assert "2005600" in text  # the merchant's answer body
    assert "Redeliver now" in text


async def test_redeliver_makes_exactly_one_new_delivery(
    pages: httpx.AsyncClient, sim: Simulator, merchant_app: MerchantApp
) -> None:
    async with sim.client() as client:
        ref = await _shop.qris(client, sim, "RED-1")
    await sim.pay(ref)
    await sim.drain(timeout=5)
    (first,) = sim.deliveries(ref)
    received = len(merchant_app.received)
    token = csrf_of(await get_html(pages, f"/_simulator/console/transactions/{ref}"))
    clicked = await pages.post(
        f"/_simulator/deliveries/{first.id}/redeliver",
        headers=FORM,
        content=f"csrf={token}&returnTo=/_simulator/console/transactions/{ref}".encode(),
    )
    assert clicked.status_code == 303
    assert clicked.headers["location"] == f"/_simulator/console/transactions/{ref}"
    await sim.drain(timeout=5)
    after = sim.deliveries(ref)
    assert [d.id for d in after[:1]] == [first.id]
    assert len(after) == 2
    assert after[0] == first  # the original is untouched
    assert after[1].body == first.body
    assert after[1].state.value == "delivered"
    assert len(merchant_app.received) == received + 1
    by_json = await pages.post(f"/_simulator/deliveries/{first.id}/redeliver", json={})
    assert by_json.json()["id"] not in {d.id for d in after}
    missing = await pages.post("/_simulator/deliveries/dlv-nope/redeliver", json={})
    assert missing.status_code == 404


async def test_paying_returns_to_the_merchant_when_it_gave_a_pay_return_url(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        back = await _shop.dana(client, sim, "DANA-1", return_url="https://shop.example/thanks?o=1")
        stay = await _shop.dana(client, sim, "DANA-2")
    page = await get_html(pages, f"/_simulator/checkout/{back}")
    assert 'id="wallet"' in page
    token = csrf_of(page)
    paid = await pages.post(
        f"/_simulator/transactions/{back}/pay", headers=FORM, content=f"csrf={token}"
    )
    assert (paid.status_code, paid.headers["location"]) == (303, "https://shop.example/thanks?o=1")
    failed = await pages.post(
        f"/_simulator/transactions/{stay}/fail", headers=FORM, content=f"csrf={token}"
    )
    assert failed.headers["location"] == f"/_simulator/checkout/{stay}"
    shown = await get_html(pages, failed.headers["location"])
    assert 'data-status="06"' in shown
    assert "<button" not in shown  # final: nothing left to click


async def test_each_product_shows_what_its_payer_needs(
    pages: httpx.AsyncClient, sim: Simulator
) -> None:
    async with sim.client() as client:
        qr = await _shop.qris(client, sim, "SHOW-QR")
        va = await _shop.virtual_account(client, sim, "SHOW-VA")
        retail = await _shop.retail(client, sim, "SHOW-RT")
        link = await _shop.payment_link(client, sim, "SHOW-PL")
    qr_page = await get_html(pages, f"/_simulator/checkout/{qr}")
    assert '<div id="qr"' in qr_page
    assert "<svg" in qr_page
    assert sim.transaction(qr).details["qrContent"] in qr_page
    va_page = await get_html(pages, f"/_simulator/checkout/{va}")
    va_no = sim.transaction(va).details["virtualAccountData"]["virtualAccountNo"]
    assert f'id="va-number" class="big-number">{va_no}<' in va_page
    assert "IDR 150,000.00" in va_page
    assert ">BNI<" in va_page
    rt_page = await get_html(pages, f"/_simulator/checkout/{retail}")
    code = sim.transaction(retail).details["vaNumber"]
    assert f'id="payment-code" class="big-number">{code}<' in rt_page
    assert "Alfamart" in rt_page
    pl_page = await get_html(pages, f"/_simulator/checkout/{link}")
    assert pl_page.count('class="item"') == 2
    assert "Kopi susu" in pl_page
    assert "Roti bakar" in pl_page
    assert pl_page.count('name="channel"') == 2
    assert "IDR 55,000.00" in pl_page
    assert 'id="expires"' in pl_page


async def test_the_fault_form_sets_the_knobs(pages: httpx.AsyncClient, sim: Simulator) -> None:
    token = csrf_of(await get_html(pages, "/_simulator/console"))
    answer = await pages.post(
        "/_simulator/faults",
        headers=FORM,
        content=(
            f"csrf={token}&form=faults&latency=0.25&jitter=&errorRate=1&dropRate=0"
            "&dropCallbacks=0.5&paths=%2Fv1.0%2Fqr%2Fqr-mpm-query%0D%0A"
        ).encode(),
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/_simulator/console#faults")
    faults = sim.faults
    assert (faults.latency, faults.jitter, faults.error_rate) == (0.25, 0.0, 1.0)
    assert faults.drop_callbacks == 0.5
    assert faults.paths == frozenset({"/v1.0/qr/qr-mpm-query"})
    assert faults.include_token is False  # an unchecked box is not sent
    page = await get_html(pages, "/_simulator/console")
    assert 'name="errorRate" min="0" max="1" step="0.01" value="1"' in page
    bad = await pages.post(
        "/_simulator/faults", headers=FORM, content=f"csrf={token}&form=faults&errorRate=2"
    )
    assert bad.status_code == 400

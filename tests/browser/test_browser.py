"""The simulator's checkout pages and console in a real Chromium, used the way a QA engineer
uses them: a payer pays, the example shop hears of it through a verified callback, the console
shows the delivery; fault knobs, redelivery, an XSS probe and a run without JavaScript."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ayolinx_async import AyolinxClient, ServerError
from ayolinx_async.models import TransactionStatus
from ayolinx_async.simulator import DeliveryState, Simulator

from . import _shop
from ._stack import Stack
from .conftest import Browser

pytestmark = pytest.mark.slow

Create = Callable[[AyolinxClient, Simulator, str], Awaitable[str]]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll ``condition`` until it is truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def css(browser: Browser, selector: str) -> Any:
    return browser.driver.find_element("css selector", selector)


def css_all(browser: Browser, selector: str) -> list[Any]:
    return list(browser.driver.find_elements("css selector", selector))


def _value_of(browser: Browser, selector: str) -> str | None:
    """A form field's value, or ``None`` while the page is reloading (stale or not there)."""
    from selenium.common.exceptions import WebDriverException

    try:
        return str(css(browser, selector).get_attribute("value"))
    except WebDriverException:
        return None


def status_of_page(browser: Browser) -> str:
    """The status badge's code, or "" while the next page is still loading."""
    from selenium.common.exceptions import WebDriverException

    try:
        return str(css(browser, "#status").get_attribute("data-status"))
    except WebDriverException:  # stale or not there yet: the form post is under way
        return ""


def pay_in_browser(browser: Browser, stack: Stack, reference: str) -> None:
    """Open the payer page, click Pay, land back on it showing success."""
    browser.open(f"{stack.sim_url}/_simulator/checkout/{reference}")
    css(browser, "#pay").click()
    wait_for(lambda: status_of_page(browser) == "00", "the checkout page to show 00")
    browser.snap("after-pay")


def delivered(stack: Stack, reference: str) -> Any:
    """The transaction's delivery, once the shop acknowledged it."""
    return wait_for(
        lambda: [d for d in stack.deliveries(reference) if d.state is DeliveryState.DELIVERED],
        f"a delivered callback for {reference}",
    )[-1]


def console_shows_delivered(browser: Browser, stack: Stack, reference: str) -> None:
    browser.open(f"{stack.sim_url}/_simulator/console/transactions/{reference}")
    (delivery,) = css_all(browser, ".delivery")
    assert delivery.get_attribute("data-state") == "delivered"
    last = delivery.find_elements("css selector", "details.attempt")[-1]
    assert last.find_element("css selector", ".attempt-status").text == "HTTP 200"
    assert "responseCode" in last.find_element("css selector", ".attempt-response").text
    assert "X-SIGNATURE:" in last.find_element("css selector", ".request-headers").text


def test_a_payer_pays_a_qris_and_the_shop_hears_of_it(browser: Browser, stack: Stack) -> None:
    reference = stack.use(lambda c, s: _shop.qris(c, s, "B-QR-1"))
    browser.open(f"{stack.sim_url}/_simulator/checkout/{reference}")
    qr = css(browser, "#qr svg")
    assert qr.is_displayed()
    assert qr.size["width"] >= 200
    assert css(browser, "#qr-string").text.startswith("000201")
    assert css(browser, "#expires").text.endswith("left")  # the script counts down
    css(browser, "#pay").click()
    wait_for(lambda: status_of_page(browser) == "00", "the checkout page to show 00")
    browser.snap("after-pay")
    assert css_all(browser, "#qr") == []  # paid: nothing left to scan
    delivery = delivered(stack, reference)
    assert delivery.attempts[-1].status_code == 200
    order = wait_for(lambda: stack.order("B-QR-1"), "the shop's order B-QR-1")
    assert order["status"] == TransactionStatus.SUCCESS
    assert order["event"] == "QrisNotification"
    console_shows_delivered(browser, stack, reference)


@pytest.mark.parametrize(
    ("create", "partner", "event"),
    [
        pytest.param(_shop.virtual_account, "B-VA-1", "VaPaymentRequest", id="va"),
        pytest.param(_shop.retail, "B-RT-1", "RetailNotification", id="retail"),
        pytest.param(_shop.payment_link, "B-PL-1", "PaymentLinkNotification", id="link"),
    ],
)
def test_va_retail_and_payment_link_payers(
    browser: Browser, stack: Stack, create: Create, partner: str, event: str
) -> None:
    reference = stack.use(lambda c, s: create(c, s, partner))
    browser.open(f"{stack.sim_url}/_simulator/checkout/{reference}")
    if partner == "B-VA-1":
        number = stack.call(lambda: stack.sim.transaction(reference).details)
        assert css(browser, "#va-number").text == number["virtualAccountData"]["virtualAccountNo"]
        assert css(browser, "#va-bank").text == "BNI"
        assert css(browser, "#amount").text == "IDR 150,000.00"
    elif partner == "B-RT-1":
        code = stack.call(lambda: stack.sim.transaction(reference).details["vaNumber"])
        assert css(browser, "#payment-code").text == code
        assert css(browser, "#store").text == "Alfamart"
    else:
        names = [
            row.find_element("css selector", ".item-name").text
            for row in css_all(browser, "#items tr.item")
        ]
        assert names == ["Kopi susu", "Roti bakar"]
        assert css(browser, "#amount").text == "IDR 55,000.00"
        css(browser, 'input[name="channel"][value="VIRTUAL_ACCOUNT_BNI"]').click()
    css(browser, "#pay").click()
    wait_for(lambda: status_of_page(browser) == "00", "the checkout page to show 00")
    browser.snap("after-pay")
    delivered(stack, reference)
    # The shop books a payment link under the link id (additionalInfo.plh).
    order_id = reference if partner == "B-PL-1" else partner
    order = wait_for(lambda: stack.order(order_id), "the shop's order")
    assert order["status"] == TransactionStatus.SUCCESS
    assert order["event"] == event
    if partner == "B-PL-1":
        assert css(browser, "#paid-channel").text == "VIRTUAL_ACCOUNT_BNI"
    console_shows_delivered(browser, stack, reference)


def _set_faults(browser: Browser, stack: Stack, **values: str) -> None:
    browser.open(f"{stack.sim_url}/_simulator/console")
    for name, value in values.items():
        field = css(browser, f"#fault-{name}")
        field.clear()
        field.send_keys(value)
    css(browser, "#fault-apply").click()
    wait_for(lambda: browser.driver.current_url.endswith("#faults"), "the console after Apply")
    browser.snap("faults-applied")


def test_a_fault_knob_set_in_the_console_fails_the_next_call(
    browser: Browser, stack: Stack
) -> None:
    stack.use(lambda c, s: _shop.qris(c, s, "B-FAULT-1"))
    _set_faults(browser, stack, errorRate="1", paths="/v1.0/qr/qr-mpm-query")
    assert stack.call(lambda: stack.sim.faults.error_rate) == 1.0
    before = len(stack.call(stack.sim.requests))
    with pytest.raises(ServerError):
        stack.use(lambda c, s: c.qris.query(original_partner_reference_no="B-FAULT-1"))
    answered = stack.call(stack.sim.requests)[before:]
    assert [r.http_status for r in answered] == [500, 500, 500]  # the call and its 2 retries
    css(browser, "#fault-reset").click()
    # The URL already ends with #faults (from Apply): wait for the reset itself, on the server
    # and on the page that reloads after it (an element read mid-reload is stale).
    wait_for(lambda: stack.call(lambda: stack.sim.faults.error_rate) == 0.0, "the reset faults")
    wait_for(lambda: _value_of(browser, "#fault-errorRate") == "0", "the console after Reset")
    answer = stack.use(lambda c, s: c.qris.query(original_partner_reference_no="B-FAULT-1"))
    assert answer.response_code.value == "2005100"


def test_redeliver_now_produces_exactly_one_new_delivery(browser: Browser, stack: Stack) -> None:
    reference = stack.use(lambda c, s: _shop.retail(c, s, "B-RED-1"))
    stack.use(lambda c, s: s.pay(reference))
    first = delivered(stack, reference)
    browser.open(f"{stack.sim_url}/_simulator/console/transactions/{reference}")
    assert len(css_all(browser, ".delivery")) == 1
    css(browser, "button.redeliver").click()
    wait_for(lambda: len(css_all(browser, ".delivery")) == 2, "the second delivery on the page")
    browser.snap("after-redeliver")
    wait_for(
        lambda: (
            [d.state for d in stack.deliveries(reference)]
            == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
        ),
        "the redelivery to be acknowledged",
    )
    time.sleep(0.3)  # nothing else arrives later
    after = stack.deliveries(reference)
    assert len(after) == 2
    assert after[0] == first
    assert after[1].body == first.body


def test_xss_probe_renders_as_text_and_fires_nothing(browser: Browser, stack: Stack) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    qr = stack.use(lambda c, s: _shop.qris(c, s, _shop.XSS_SCRIPT))
    link = stack.use(
        lambda c, s: _shop.payment_link(
            c, s, _shop.XSS_ATTR, names=(_shop.XSS_SCRIPT, _shop.XSS_IMG), customer=_shop.XSS_ATTR
        )
    )
    pages = [
        f"/_simulator/checkout/{qr}",
        f"/_simulator/console/transactions/{qr}",
        f"/_simulator/checkout/{link}",
        f"/_simulator/console/transactions/{link}",
        "/_simulator/console",
    ]
    for path in pages:
        browser.open(stack.sim_url + path)
        with pytest.raises(NoAlertPresentException):
            browser.driver.switch_to.alert  # noqa: B018 - the property raises when none is open
        assert browser.driver.execute_script("return window.__xss === undefined") is True
        if "/transactions/" in path:
            expected = _shop.XSS_SCRIPT if qr in path else _shop.XSS_ATTR
            assert css(browser, "#partner-ref").text == expected
    browser.open(f"{stack.sim_url}/_simulator/checkout/{link}")
    names = [e.text for e in css_all(browser, "#items .item-name")]
    assert names == [_shop.XSS_SCRIPT, _shop.XSS_IMG]
    assert css_all(browser, "#items img") == []


def test_paying_works_without_javascript(browser_without_js: Browser, stack: Stack) -> None:
    reference = stack.use(lambda c, s: _shop.qris(c, s, "B-NOJS-1"))
    browser = browser_without_js
    browser.open(f"{stack.sim_url}/_simulator/checkout/{reference}")
    assert css(browser, "#expires").text.startswith("until")  # no script ran
    assert css(browser, "#live-state").text == "static"
    css(browser, "#pay").click()
    wait_for(lambda: status_of_page(browser) == "00", "the checkout page to show 00")
    browser.snap("after-pay")
    delivered(stack, reference)
    assert wait_for(lambda: stack.order("B-NOJS-1"), "the shop's order")["status"] == "00"

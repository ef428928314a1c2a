"""Checkout pages in Chromium as a payer meets them: a QRIS with a PAY_RETURN URL sends the
browser back to the shop after Pay, and a payment link's channel list fits its card."""

from __future__ import annotations

import pytest

from ayolinx_async import AyolinxClient
from ayolinx_async.models import UrlParam
from ayolinx_async.simulator import Simulator

from . import _shop
from ._stack import Stack
from .conftest import Browser
from .test_browser import css, css_all, wait_for

pytestmark = pytest.mark.slow


def test_a_qris_payer_returns_to_the_shop_after_paying(browser: Browser, stack: Stack) -> None:
    back = f"{stack.shop_url}/thanks?order=R-QR-1"

    async def create(client: AyolinxClient, sim: Simulator) -> str:
        await client.qris.generate(
            partner_reference_no="R-QR-1", amount="1000", url_params=[UrlParam.pay_return(back)]
        )
        return sim.transaction("R-QR-1").reference_no

    reference = stack.use(create)
    browser.open(f"{stack.sim_url}/_simulator/checkout/{reference}")
    assert back in css(browser, "#return-note").text
    css(browser, "#pay").click()
    wait_for(lambda: browser.driver.current_url == back, "the browser to reach the shop")
    assert stack.call(lambda: stack.sim.transaction(reference).status) == "00"


def test_a_payment_links_channels_fit_the_card(browser: Browser, stack: Stack) -> None:
    reference = stack.use(lambda c, s: _shop.payment_link(c, s, "R-PL-1"))
    browser.open(f"{stack.sim_url}/_simulator/checkout/{reference}")
    actions = css(browser, "#actions").rect
    channels = css(browser, "#channels").rect
    assert channels["width"] >= 0.9 * actions["width"]  # the choice has the whole row
    for label in css_all(browser, ".channel-choice"):
        clipped = browser.driver.execute_script(
            "return arguments[0].scrollWidth > arguments[0].clientWidth;", label
        )
        assert not clipped, label.text
    pay = css(browser, "#pay").rect
    assert pay["y"] > channels["y"] + channels["height"] - 1  # Pay comes after the choice

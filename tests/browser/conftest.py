"""Real-browser fixtures: Debian's Chromium driven by Selenium through Debian's chromedriver, the
simulator and the example FastAPI shop under uvicorn on loopback ports, and screenshots of every
page a failed test visited (in ``${AYOLINX_ARTIFACTS:-.artifacts}/browser/``).

Without chromium/chromedriver (or selenium) the module is skipped, unless
``AYOLINX_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ._stack import Stack

_REQUIRE = "AYOLINX_REQUIRE_BROWSER"


def _tools() -> tuple[str, str]:
    """The browser and driver binaries, or a skip (a failure when CI requires them)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    problems = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        problems.append("the selenium package")
    if browser is None:
        problems.append("chromium on PATH (apt-get install chromium)")
    if driver is None:
        problems.append("chromedriver on PATH (apt-get install chromium-driver)")
    if problems:
        message = "browser tests need " + ", ".join(problems)
        if os.environ.get(_REQUIRE) == "1":
            pytest.fail(f"{message}; {_REQUIRE}=1 makes this a failure", pytrace=False)
        pytest.skip(message)
    assert browser is not None
    assert driver is not None
    return browser, driver


def new_driver(*, javascript: bool = True) -> Any:
    """A headless Chromium; ``javascript=False`` starts it with scripts blocked by policy."""
    browser, driver_path = _tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    return webdriver.Chrome(options=options, service=Service(driver_path))


class Browser:
    """The driver plus a record of every page shown in this test (PNG bytes, kept in memory and
    written out only when the test fails)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.shots: list[tuple[str, bytes]] = []

    def snap(self, label: str) -> None:
        self.shots.append((label, self.driver.get_screenshot_as_png()))

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.snap(url.rsplit("/_simulator/", 1)[-1] or "page")

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for index, (label, png) in enumerate(self.shots, start=1):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:60]
            (folder / f"{index:02d}-{name}.png").write_bytes(png)
        last = folder / f"{len(self.shots) + 1:02d}-last.png"
        with contextlib.suppress(Exception):  # the browser itself may be what failed
            self.driver.get_screenshot_as_file(str(last))


def artifacts_dir() -> Path:
    return Path(os.environ.get("AYOLINX_ARTIFACTS") or ".artifacts") / "browser"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(node: pytest.Item) -> bool:
    return any(
        getattr(getattr(node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole module."""
    driver = new_driver()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The simulator and the example shop, served on loopback by uvicorn in a thread."""
    _tools()
    with Stack.running() as running:
        yield running


def _keep_on_failure(request: pytest.FixtureRequest, browser: Browser) -> None:
    if _failed(request.node):
        browser.save(artifacts_dir() / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name))


@pytest.fixture
def browser(request: pytest.FixtureRequest, chromium: Any) -> Iterator[Browser]:
    wrapped = Browser(chromium)
    yield wrapped
    _keep_on_failure(request, wrapped)


@pytest.fixture
def browser_without_js(request: pytest.FixtureRequest) -> Iterator[Browser]:
    driver = new_driver(javascript=False)
    wrapped = Browser(driver)
    try:
        yield wrapped
        _keep_on_failure(request, wrapped)
    finally:
        driver.quit()

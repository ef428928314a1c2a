"""``ayolinx demo`` runs offline, walks every product and says so in its summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ayolinx_async._cli import COMMANDS, build_parser, main
from ayolinx_async._cli.demo import PRODUCTS, STEPS, DemoReport, StepResult, render_table

ROW = re.compile(r"^\| (?P<product>.+?) +\| (?P<cells>.*) \|$")


def _offline_env() -> dict[str, str]:
    """No Ayolinx credentials, and any real HTTP attempt would hit a dead proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYOLINX_")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def _rows(stdout: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        match = ROW.match(line)
        if match and match["product"] != "Product":
            rows[match["product"]] = [c.strip() for c in match["cells"].split("|")]
    return rows


def _assert_all_passed(stdout: str) -> None:
    rows = _rows(stdout)
    assert list(rows) == list(PRODUCTS)
    for product, cells in rows.items():
        # Token, Create, Payment, Callback, Status, Result
        assert cells == ["ok", "ok", "ok", "ok", "ok", "PASS"], product
    assert "All 5 products passed (21 steps)." in stdout


def test_demo_as_a_module_exits_zero_with_a_full_summary(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ayolinx_async._cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_offline_env(),
        cwd=tmp_path,  # no project files needed
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_all_passed(result.stdout)
    # The progress lines name what was verified, product by product.
    assert "QrisNotification verified" in result.stdout
    assert "merchant token issued, then VaPaymentRequest verified" in result.stdout
    assert re.search(r"plh=[0-9A-Za-z]{11}", result.stdout)
    assert "FAIL" not in result.stdout


def test_demo_console_script_quiet(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("ayolinx")
    if not script.exists():
        pytest.fail("console script missing: run `.venv/bin/pip install -e .`")
    result = subprocess.run(
        [str(script), "demo", "--quiet", "--seed", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_offline_env(),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_all_passed(result.stdout)
    assert "[ok  ]" not in result.stdout  # --quiet: table only


def test_summary_marks_failures_and_the_exit_status_follows() -> None:
    report = DemoReport()
    report.steps.append(StepResult(product="Access token", step="token", ok=True, detail=""))
    for product in PRODUCTS:
        for step in STEPS:
            failed = product == "Retail" and step == "callback"
            report.steps.append(StepResult(product=product, step=step, ok=not failed, detail=""))
    table = render_table(report)
    rows = _rows(table)
    assert rows["Retail"] == ["ok", "ok", "ok", "FAIL", "ok", "FAIL"]
    assert rows["QRIS"][-1] == "PASS"
    assert not report.ok
    assert "4 of 5 products passed" in table


def test_an_incomplete_report_is_not_ok() -> None:
    report = DemoReport(steps=[StepResult(product="QRIS", step="create", ok=True, detail="")])
    assert not report.ok
    assert "-" in _rows(render_table(report))["DANA e-wallet"]


def test_cli_registry_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert COMMANDS == (
        "ayolinx_async._cli.demo",
        "ayolinx_async._cli.serve",
        "ayolinx_async._cli.tracker",
    )
    parser = build_parser()
    assert parser.parse_args(["demo", "--quiet"]).quiet is True
    assert parser.parse_args(["simulator", "--port", "9000"]).port == 9000
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert "ayolinx-async" in capsys.readouterr().out


def test_demo_in_process() -> None:
    assert main(["demo", "--quiet"]) == 0


def test_demo_lossy_finishes_every_product_with_callbacks_dropped() -> None:
    """``ayolinx demo --lossy`` (issue 18): 100 % of callbacks dropped, the tracker polls; the
    four queryable products end by polling, the payment link ends unresolved."""
    result = subprocess.run(
        [sys.executable, "-m", "ayolinx_async", "demo", "--lossy"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "callbacks delivered: 0" in result.stdout
    for line in (
        "✔ QRIS             paid         from poll",
        "✔ DANA e-wallet    paid         from poll",
        "✔ Virtual account  paid         from poll",
        "✔ Retail           expired      from poll",
        "✔ Payment link     unresolved   from deadline",
    ):
        assert line in result.stdout, result.stdout

"""The pure parts of telemetry: operation names, safe URLs, outcomes, the switch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ayolinx_async import ConfigurationError, OutcomeUnknownError, ReadTimeoutError
from ayolinx_async._endpoints import Endpoint
from ayolinx_async._telemetry import build_telemetry, telemetry_wanted
from ayolinx_async._telemetry._names import (
    call_outcome,
    callback_result,
    operation_for,
    safe_url,
    server_of,
)


def test_every_catalogue_path_has_a_dotted_operation_name() -> None:
    assert operation_for(Endpoint.QRIS_QUERY.path) == "qris.query"
    assert operation_for(Endpoint.QRIS_GENERATE.path) == "qris.generate"
    assert operation_for(Endpoint.PAYMENT_LINK_CREATE.path) == "payment_link.create"
    assert operation_for(Endpoint.VA_CREATE.path) == "va.create"
    assert operation_for(Endpoint.TOKEN.path) == "token"
    names = {operation_for(endpoint.path) for endpoint in Endpoint}
    assert len(names) == len(Endpoint)


def test_a_path_outside_the_catalogue_never_becomes_a_label() -> None:
    assert operation_for("/v1.0/custom/ORD-123?secret=1") == "request"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@gw.test/v1.0/qr?sig=abc#frag", "https://gw.test/v1.0/qr"),
        ("http://gw.test:8080/p", "http://gw.test:8080/p"),
        ("https://[::1]:9000/p?token=x", "https://[::1]:9000/p"),
    ],
)
def test_safe_url_drops_user_info_query_and_fragment(url: str, expected: str) -> None:
    assert safe_url(url) == expected


def test_server_of_names_host_and_default_port() -> None:
    assert server_of("https://api.ayolinx.test") == ("api.ayolinx.test", 443)
    assert server_of("http://127.0.0.1:8000") == ("127.0.0.1", 8000)


def test_outcomes() -> None:
    unknown = OutcomeUnknownError(
        path="/p",
        external_id="1",
        partner_reference_no=None,
        attempts=1,
        cause=ReadTimeoutError("x"),
    )
    assert call_outcome(None) == "ok"
    assert call_outcome(unknown) == "unknown"
    assert call_outcome(ReadTimeoutError("slow")) == "failed"
    assert callback_result(200, "new") == "accepted"
    assert callback_result(200, "duplicate") == "duplicate"
    assert callback_result(409, "in_progress") == "rejected"
    assert callback_result(504, "new") == "failed"


@pytest.mark.parametrize(
    ("setting", "env", "expected"),
    [
        (None, "", False),
        (None, "1", True),
        (None, " TRUE ", True),
        (None, "0", False),
        (False, "1", False),
        (True, "", True),
    ],
)
def test_the_switch(setting: bool | None, env: str, expected: bool) -> None:
    assert telemetry_wanted(setting, {"AYOLINX_OTEL": env}) is expected


def test_off_builds_nothing() -> None:
    assert build_telemetry(False) is None
    assert build_telemetry(None, environ={}) is None


def test_a_non_bool_switch_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="telemetry"):
        telemetry_wanted("yes")  # type: ignore[arg-type]


def test_missing_opentelemetry_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "ayolinx_async._telemetry._otel", raising=False)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ConfigurationError, match=r"ayolinx-async\[otel\]"):
        build_telemetry(True)


def test_importing_the_sdk_does_not_import_opentelemetry() -> None:
    code = (
        "import sys, ayolinx_async, ayolinx_async._telemetry;"
        "from ayolinx_async import AyolinxClient, CallbackHandler;"
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"

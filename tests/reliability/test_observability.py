"""Logging (``AYOLINX_LOG``) and the ``on_request`` / ``on_response`` hooks: what they show, and
that they never show a secret, a token, a signature or a body."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    Credentials,
    OutcomeUnknownError,
    RequestEvent,
    ResponseEvent,
)
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async._log import SAFE_HEADERS, configure_from_env, logger
from ayolinx_async.testing import Fault
from tests.conftest import CLIENT_SECRET
from tests.reliability._gateway import GENERATE, QUERY, rig

pytestmark = pytest.mark.anyio

REF = "ORD-LOG-1"
LINE = re.compile(
    r"^POST (?P<path>/\S+) -> (?P<status>\d{3}) responseCode=(?P<code>\S+)"
    r" \(X-EXTERNAL-ID=(?P<ext>\w+) attempt=(?P<attempt>\d+) (?P<secs>\d+\.\d{3})s\)$"
)
FAILED = re.compile(
    r"^POST (?P<path>/\S+) failed: (?P<error>\w+)"
    r" \(X-EXTERNAL-ID=(?P<ext>\d+) attempt=(?P<attempt>\d+) (?P<secs>\d+\.\d{3})s\)$"
)


@pytest.fixture
def restore_logger() -> Iterator[None]:
    """``AYOLINX_LOG`` configures the package logger globally; put it back afterwards."""
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


def _secrets_of(r: object, merchant_pem: bytes) -> list[str]:
    gateway = r.gateway  # type: ignore[attr-defined]
    faults = r.faults  # type: ignore[attr-defined]
    found = [CLIENT_SECRET, *gateway.issued]
    for record in faults.records:
        found.append(record.request.headers["X-SIGNATURE"])
    found += [line for line in merchant_pem.decode().splitlines() if "-----" not in line]
    return found


# -- logging ---------------------------------------------------------------------------------


async def test_silent_by_default(
    credentials: Credentials,
    merchant_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    restore_logger: None,
) -> None:
    monkeypatch.delenv("AYOLINX_LOG", raising=False)
    logger.setLevel(logging.NOTSET)
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.status(503), Fault.read_timeout(), path=QUERY)
        await r.query(REF)
    assert not [rec for rec in caplog.records if rec.name.startswith("ayolinx_async")]
    assert not any(getattr(h, "_ayolinx_env", False) for h in logger.handlers)
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


@pytest.mark.parametrize(("value", "level"), [("info", logging.INFO), ("DEBUG", logging.DEBUG)])
def test_ayolinx_log_switches_on_one_stderr_handler(
    value: str, level: int, monkeypatch: pytest.MonkeyPatch, restore_logger: None
) -> None:
    monkeypatch.setenv("AYOLINX_LOG", value)
    configure_from_env()
    configure_from_env()  # idempotent
    assert logger.level == level
    env_handlers = [h for h in logger.handlers if getattr(h, "_ayolinx_env", False)]
    assert len(env_handlers) == 1


@pytest.mark.parametrize("value", ["", "verbose", "warning", "1"])
def test_other_ayolinx_log_values_change_nothing(
    value: str, monkeypatch: pytest.MonkeyPatch, restore_logger: None
) -> None:
    monkeypatch.setenv("AYOLINX_LOG", value)
    before = (logger.level, list(logger.handlers))
    configure_from_env()
    assert (logger.level, list(logger.handlers)) == before


async def test_info_lines_carry_method_path_status_code_external_id_attempt_and_duration(
    credentials: Credentials,
    merchant_key: rsa.RSAPrivateKey,
    merchant_private_pem: bytes,
    monkeypatch: pytest.MonkeyPatch,
    restore_logger: None,
) -> None:
    monkeypatch.setenv("AYOLINX_LOG", "info")
    # As in a program that configured no logging of its own (pytest's capture handler sits on
    # the root logger, and the stderr handler stays quiet while the app's handlers print).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    async with rig(credentials, merchant_key) as r:
        (handler,) = [h for h in logger.handlers if getattr(h, "_ayolinx_env", False)]
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.status(503), Fault.read_timeout(), path=QUERY)
        result = await r.query(REF)
        r.faults.inject(Fault.drop(), path=GENERATE)
        with pytest.raises(OutcomeUnknownError):
            await r.generate("ORD-LOG-2")
    lines = [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]
    token_line, *service_lines = lines
    token_match = LINE.match(token_line)
    assert token_match is not None
    assert (token_match["path"], token_match["ext"]) == (TOKEN_PATH, "None")
    first, second, third, money = service_lines
    m1, m3 = LINE.match(first), LINE.match(third)
    m2, m4 = FAILED.match(second), FAILED.match(money)
    assert m1 is not None
    assert m2 is not None
    assert m3 is not None
    assert m4 is not None
    assert (m1["status"], m1["code"], m1["attempt"]) == ("503", "5030000", "1")
    assert (m2["error"], m2["attempt"]) == ("ReadTimeoutError", "2")
    assert (m3["status"], m3["code"], m3["attempt"]) == ("200", "2005100", "3")
    assert m1["ext"] == m2["ext"] == m3["ext"] == result.external_id
    assert (m4["path"], m4["error"], m4["attempt"]) == (GENERATE, "ConnectionDroppedError", "1")
    text = stream.getvalue()
    assert "qrContent" not in text
    assert "latestTransactionStatus" not in text  # no body at info
    for secret in _secrets_of(r, merchant_private_pem):
        assert secret not in text


async def test_debug_never_logs_secrets_or_the_string_to_sign(
    credentials: Credentials,
    merchant_key: rsa.RSAPrivateKey,
    merchant_private_pem: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ayolinx_async")
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.status(401, response_code="4015101"), path=QUERY)
        await r.query(REF)
        r.faults.inject(Fault.html(500), path=GENERATE)
        with pytest.raises(OutcomeUnknownError):
            await r.generate("ORD-LOG-3")
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert caplog.records
    assert not re.search(r"POST:/\S+:\S+:[0-9a-f]{64}:", text)  # a service string-to-sign
    assert "|2024-" not in text  # the token string-to-sign
    for secret in _secrets_of(r, merchant_private_pem):
        assert secret not in text


async def test_debug_logs_allow_listed_headers_only(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ayolinx_async")
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.status(429, headers={"Retry-After": "3"}), path=QUERY)
        await r.query(REF)
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    sent = r.faults.records_for(QUERY)[0].request.headers
    assert sent["X-TIMESTAMP"] in text
    assert sent["X-PARTNER-ID"] in text
    assert "retry-after" in text.lower()
    assert "authorization" not in text.lower()
    assert "x-signature" not in text.lower()


# -- hooks -----------------------------------------------------------------------------------


async def test_hooks_see_every_attempt_through_redacted_views(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey, merchant_private_pem: bytes
) -> None:
    requests: list[RequestEvent] = []
    responses: list[ResponseEvent] = []

    async def on_request(event: RequestEvent) -> None:
        requests.append(event)

    async def on_response(event: ResponseEvent) -> None:
        responses.append(event)

    async with rig(credentials, merchant_key, on_request=on_request, on_response=on_response) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject(Fault.status(503), Fault.read_timeout(), path=QUERY)
        result = await r.query(REF)
    assert [e.path for e in requests] == [TOKEN_PATH, QUERY, QUERY, QUERY]
    assert [e.attempt for e in requests] == [1, 1, 2, 3]
    assert [e.request for e in responses] == requests
    assert [e.status_code for e in responses] == [200, 503, None, 200]
    assert [e.response_code for e in responses] == ["2007300", "5030000", None, "2005100"]
    assert [e.error for e in responses] == [None, None, "ReadTimeoutError", None]
    assert all(e.elapsed >= 0 for e in responses)
    service = requests[1:]
    assert {e.external_id for e in service} == {result.external_id}
    assert requests[0].external_id is None
    for event in requests:
        assert event.method == "POST"
        assert event.url == "https://gateway.test" + event.path
        assert set(event.headers) <= SAFE_HEADERS
        assert "authorization" not in event.headers
        assert "x-signature" not in event.headers
    assert service[0].headers["x-external-id"] == result.external_id
    blob = "\n".join(repr(e) for e in [*requests, *responses])
    for secret in _secrets_of(r, merchant_private_pem):
        assert secret not in blob


async def test_a_failing_metrics_hook_never_changes_the_outcome(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async def broken(event: object) -> None:
        raise RuntimeError("metrics backend down")

    async with rig(credentials, merchant_key, on_request=broken, on_response=broken) as r:
        result = await r.generate("ORD-HOOK-1")
        assert result.partner_reference_no == "ORD-HOOK-1"
        assert r.gateway.ledger == {"ORD-HOOK-1": "01"}
        assert r.attempts(GENERATE) == 1


def test_http_request_repr_hides_the_signed_headers() -> None:
    from ayolinx_async import HttpRequest

    request = HttpRequest(
        method="POST",
        url="https://gateway.test/v1.0/qr/qr-mpm-query",
        headers={
            "Authorization": "Bearer tok-secret-0123456789",
            "X-SIGNATURE": "c2lnbmF0dXJlLXNlY3JldA==",
            "X-EXTERNAL-ID": "42",
        },
        content=b'{"customerEmail":"someone@example.id"}',
    )
    text = repr(request)
    assert "tok-secret-0123456789" not in text
    assert "c2lnbmF0dXJlLXNlY3JldA==" not in text
    assert "someone@example.id" not in text


_SCRIPT = """
import json, logging, sys
import anyio, httpx
from ayolinx_async import AyolinxClient, Credentials
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

if sys.argv[1] == "basicConfig":
    logging.basicConfig(level=logging.INFO, format="APP %(name)s %(message)s")

def handle(request):
    if request.url.path.endswith("/access-token/b2b"):
        body = {"responseCode": "2007300", "accessToken": "tok-0123456789", "expiresIn": 900}
    else:
        body = {"responseCode": "2005100", "responseMessage": "Successful"}
    return httpx.Response(200, content=json.dumps(body).encode())

async def main():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    creds = Credentials(client_key="CK-1", client_secret="SK-0123456789", private_key=pem)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    async with AyolinxClient(creds, base_url="https://gw.test", http_client=http) as client:
        await client.request("/v1.0/qr/qr-mpm-query", {}, idempotent=True)

anyio.run(main)
"""


@pytest.mark.parametrize("setup", ["basicConfig", "nothing"])
def test_ayolinx_log_prints_each_line_once_whether_or_not_the_app_configured_logging(
    setup: str,
) -> None:
    env = {**os.environ, "AYOLINX_LOG": "info"}
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, setup],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    lines = [line for line in result.stderr.splitlines() if "/v1.0/qr/qr-mpm-query ->" in line]
    assert len(lines) == 1, result.stderr
    if setup == "basicConfig":
        assert lines[0].startswith("APP ayolinx_async ")  # the app's own format

"""``ayolinx token`` and ``ayolinx call`` against ``ayolinx simulator`` served on a real
127.0.0.1 port, configured only through the AYOLINX_* lines the simulator prints."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ayolinx_async._cli._output import ExitCode, describe_error
from ayolinx_async._errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    OutcomeUnknownError,
    ResponseCode,
    ResponseDecodeError,
    ServerError,
    ValidationError,
)
from ayolinx_async._wire import new_external_id

from ._tools import Served, clean_env, cli, cli_json, free_port, one_line_error, simulator_process


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with simulator_process(tmp_path_factory.mktemp("sim")) as running:
        yield running


@pytest.fixture
def env(served: Served) -> dict[str, str]:
    """The simulator's credentials, exactly as printed (AYOLINX_PRIVATE_KEY_FILE etc.)."""
    return clean_env(**served.env)


def _qr_body(tmp_path: Path, reference: str) -> Path:
    body = tmp_path / f"{reference}.json"
    body.write_text(
        json.dumps(
            {
                "partnerReferenceNo": reference,
                "amount": {"value": "10000.00", "currency": "IDR"},
                "additionalInfo": {"channel": "BNC_QRIS"},
            },
            indent=2,
        )
        + "\n"
    )
    return body


def test_token_prints_the_outcome_and_hides_the_token(env: dict[str, str], served: Served) -> None:
    result = cli("token", env=env)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == f"OK   POST {served.base_url}/v1.0/access-token/b2b -> HTTP 200"
    assert re.search(r"responseCode\s+2007300", result.stdout)
    assert re.search(r"responseMessage\s+Successful", result.stdout)
    assert re.search(r"accessToken\s+<access-token \d+ chars sha256:[0-9a-f]{8}>", result.stdout)
    code, out = cli_json("token", "--show-token", env=env)
    assert code == 0
    token = out["accessToken"]
    assert out["body"]["accessToken"] == token
    assert len(token) > 20
    assert token not in result.stdout  # only shown on request
    assert out["response_code"] == "2007300"
    assert out["http_status"] == 200
    assert out["tokenType"] == "Bearer"
    assert out["expiresIn"] == "900 s"
    assert out["external_id"] is None


def test_call_creates_then_reports_a_duplicate_then_queries(
    env: dict[str, str], tmp_path: Path
) -> None:
    body = _qr_body(tmp_path, "CLI-QR-1")
    created = cli("call", "/v1.0/qr/qr-mpm-generate", str(body), env=env)
    assert created.returncode == 0, created.stderr
    assert re.search(r"responseCode\s+2004700", created.stdout)
    assert re.search(r"X-EXTERNAL-ID\s+\d{20,36}\n", created.stdout)
    assert '"qrContent": "000201' in created.stdout
    assert "POST /v1.0/access-token/b2b -> HTTP 200 2007300" in created.stdout

    # Same reference again: Ayolinx's failure is the outcome, with exit status 1.
    code, duplicate = cli_json("call", "/v1.0/qr/qr-mpm-generate", str(body), env=env)
    assert code == 1
    assert duplicate["ok"] is False
    assert duplicate["http_status"] == 409
    assert duplicate["response_code"] == "4094701"
    assert duplicate["body"]["responseCode"] == "4094701"
    assert duplicate["external_id"]

    query = tmp_path / "query.json"
    query.write_text(
        '{"originalPartnerReferenceNo":"CLI-QR-1","additionalInfo":{"channel":"BNC_QRIS"}}'
    )
    external_id = new_external_id()
    code, status = cli_json(
        "call", "/v1.0/qr/qr-mpm-query", str(query), "--idempotent",
        "--external-id", external_id, env=env,
    )  # fmt: skip
    assert code == 0
    assert status["external_id"] == external_id
    assert status["body"]["latestTransactionStatus"] == "01"
    assert [e["path"] for e in status["exchanges"]] == [
        "/v1.0/access-token/b2b",
        "/v1.0/qr/qr-mpm-query",
    ]


def test_call_reads_the_body_from_stdin_and_sends_raw_bytes(
    env: dict[str, str], served: Served
) -> None:
    raw = (
        '{"partnerReferenceNo": "CLI-QR-RAW", "amount": {"value": "5000.00", "currency": "IDR"},'
        ' "additionalInfo": {"channel": "BNC_QRIS"}}'
    )
    code, out = cli_json(
        "call", "/v1.0/qr/qr-mpm-generate", "-", "--encode", "raw", env=env, stdin=raw
    )
    assert code == 0
    assert out["response_code"] == "2004700"
    with httpx.Client(base_url=served.base_url, trust_env=False) as admin:
        txn = admin.get("/_simulator/transactions/CLI-QR-RAW").json()
    assert txn["latestTransactionStatus"] == "01"


def test_sign_service_output_is_accepted_by_the_simulator(
    env: dict[str, str], served: Served, tmp_path: Path
) -> None:
    """A token from ``ayolinx token`` + headers from ``ayolinx sign service`` pass the
    simulator's signature check when sent by plain httpx."""
    code, issued = cli_json("token", "--show-token", env=env)
    assert code == 0
    token_file = tmp_path / "token"
    token_file.write_text(issued["accessToken"])
    body = _qr_body(tmp_path, "CLI-QR-SIGNED")
    code, signed = cli_json(
        "sign", "service", "--path", "/v1.0/qr/qr-mpm-generate",
        "--access-token-file", str(token_file), "--encode", "compact", str(body), env=env,
    )  # fmt: skip
    assert code == 0
    headers = dict(signed["headers"])
    headers["X-EXTERNAL-ID"] = new_external_id()
    headers["Authorization"] = f"Bearer {issued['accessToken']}"
    sent = json.dumps(json.loads(body.read_text()), separators=(",", ":")).encode()
    with httpx.Client(base_url=served.base_url, trust_env=False) as http:
        answer = http.post("/v1.0/qr/qr-mpm-generate", content=sent, headers=headers)
    assert answer.json()["responseCode"] == "2004700", answer.text
    # And the same headers over different bytes are refused: the digest really is signed.
    headers["X-EXTERNAL-ID"] = new_external_id()
    with httpx.Client(base_url=served.base_url, trust_env=False) as http:
        refused = http.post("/v1.0/qr/qr-mpm-generate", content=sent + b" ", headers=headers)
    assert refused.status_code == 401


def test_dropped_money_moving_call_reports_an_unknown_outcome(
    env: dict[str, str], served: Served, tmp_path: Path
) -> None:
    with httpx.Client(base_url=served.base_url, trust_env=False) as admin:
        admin.post(
            "/_simulator/faults", json={"inject": "drop", "path": "/v1.0/qr/qr-mpm-generate"}
        )
    body = _qr_body(tmp_path, "CLI-QR-DROP")
    result = cli("call", "/v1.0/qr/qr-mpm-generate", str(body), "--max-retries", "0", env=env)
    assert result.returncode == 4
    line = one_line_error(result)
    assert line.startswith(
        "ayolinx call: outcome unknown: outcome unknown for /v1.0/qr/qr-mpm-generate"
    )
    assert "partnerReferenceNo=CLI-QR-DROP" in line
    assert re.search(r"X-EXTERNAL-ID=\d+", line)
    with httpx.Client(base_url=served.base_url, trust_env=False) as admin:
        # The simulator did act before hanging up: query before trying again.
        assert admin.get("/_simulator/transactions/CLI-QR-DROP").status_code == 200


def test_idempotent_call_is_retried_after_a_server_error(
    env: dict[str, str], served: Served, tmp_path: Path
) -> None:
    assert cli("call", "/v1.0/qr/qr-mpm-generate", str(_qr_body(tmp_path, "CLI-QR-R")), env=env)
    query = tmp_path / "query.json"
    query.write_text(
        '{"originalPartnerReferenceNo":"CLI-QR-R","additionalInfo":{"channel":"BNC_QRIS"}}'
    )
    with httpx.Client(base_url=served.base_url, trust_env=False) as admin:
        admin.post("/_simulator/faults", json={"inject": "error", "path": "/v1.0/qr/qr-mpm-query"})
    code, out = cli_json(
        "call", "/v1.0/qr/qr-mpm-query", str(query), "--idempotent", "--max-retries", "1", env=env
    )
    assert code == 0
    assert out["attempts"] == 2
    assert [e["http_status"] for e in out["exchanges"]][-2:] == [500, 200]


def test_wrong_secret_is_an_api_error(env: dict[str, str], tmp_path: Path) -> None:
    bad = {**env, "AYOLINX_CLIENT_SECRET": "SKSandbox-wrong"}
    code, out = cli_json("call", "/v1.0/qr/qr-mpm-generate", str(_qr_body(tmp_path, "X")), env=bad)
    assert code == 1
    assert out["http_status"] == 401
    assert out["response_code"].startswith("401")
    assert "SKSandbox-wrong" not in json.dumps(out)


def test_missing_configuration_exits_3_with_one_line(tmp_path: Path) -> None:
    result = cli("token")
    assert result.returncode == 3
    line = one_line_error(result)
    assert line.startswith("ayolinx token: configuration error: missing environment variables:")
    assert "AYOLINX_CLIENT_KEY" in line
    code, out = cli_json("call", "/v1.0/qr/qr-mpm-query", "-", stdin="{}")
    assert code == 3
    assert out == {
        "ok": False,
        "error": {"category": "configuration error", "message": out["error"]["message"],
                  "exit_code": 3},
    }  # fmt: skip


def test_unreachable_host_exits_4_and_debug_shows_the_traceback(env: dict[str, str]) -> None:
    dead = {**env, "AYOLINX_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    result = cli("token", "--max-retries", "0", "--timeout", "5", env=dead)
    assert result.returncode == 4
    assert one_line_error(result).startswith("ayolinx token: network error: ConnectError")
    debug = cli("--debug", "token", "--max-retries", "0", env=dead)
    assert debug.returncode == 4
    assert "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("ayolinx token: network error")
    assert env["AYOLINX_CLIENT_SECRET"] not in debug.stderr  # logs and traces hold no secret


def test_console_script_is_installed(env: dict[str, str], tmp_path: Path) -> None:
    import sys

    script = Path(sys.executable).with_name("ayolinx")
    result = subprocess.run(
        [str(script), "token", "--json"], capture_output=True, text=True, env=env, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["response_code"] == "2007300"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConfigurationError("x"), ExitCode.CONFIGURATION),
        (ValidationError("external_id", "bad"), ExitCode.USAGE),
        (ConnectError("refused"), ExitCode.NETWORK),
        (ResponseDecodeError("html", http_status=502, raw=b"<html>"), ExitCode.NETWORK),
        (
            AuthenticationError(
                http_status=401, response_code=ResponseCode.parse("4017300"), message="no"
            ),
            ExitCode.FAILED,
        ),
        (
            OutcomeUnknownError(
                path="/p",
                external_id="1",
                partner_reference_no=None,
                attempts=1,
                cause=ConnectionDroppedError("dropped"),
            ),
            ExitCode.NETWORK,
        ),
        (
            OutcomeUnknownError(
                path="/p",
                external_id="1",
                partner_reference_no=None,
                attempts=1,
                cause=ServerError(http_status=500, response_code=None, message="boom"),
            ),
            ExitCode.FAILED,
        ),
        (ExceptionGroup("g", [ConnectError("x")]), ExitCode.NETWORK),
        (RuntimeError("bug\nwith lines"), ExitCode.FAILED),
    ],
)
def test_error_to_exit_status_mapping(error: Exception, expected: ExitCode) -> None:
    code, category, message = describe_error(error)
    assert code == expected
    assert "\n" not in message
    assert category

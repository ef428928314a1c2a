"""``ayolinx doctor`` against ``ayolinx simulator`` on a real port: every check passes, and each
usual failure (wrong key, wrong secret, skewed clock, refused port, HTML proxy page, bad
variables, small key) gives its exact ✘ line, hint and exit status."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._cli._doctor_checks import Findings, check_variables, mask, proxy_for
from ayolinx_async.simulator import Simulator

from ._stubs import html_server, serve_in_thread
from ._tools import Served, clean_env, cli, free_port, simulator_process

KEY_HINT = (
    "  hint:        the private key does not match the public key registered in the Ayolinx"
    " back office, or AYOLINX_CLIENT_KEY is wrong: compare the public key below with the back"
    " office (`ayolinx sign token` shows what is signed)"
)
CLOCK_HINT = (
    "  hint:        SNAP servers refuse an X-TIMESTAMP outside their window: sync this machine's"
    " clock (NTP: `timedatectl set-ntp true`, chrony)"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with simulator_process(tmp_path_factory.mktemp("sim")) as running:
        yield running


@pytest.fixture
def env(served: Served) -> dict[str, str]:
    """The simulator's credentials exactly as it printed them."""
    return clean_env(**served.env)


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return cli("doctor", "--timeout", "5", *args, env=env)


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def write_key(path: Path, bits: int = 2048) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_every_check_passes_against_the_simulator(env: dict[str, str], served: Served) -> None:
    result = doctor(env, "--call-read-only")
    assert result.returncode == 0, result.stdout + result.stderr
    out = lines(result)
    key_file = env["AYOLINX_PRIVATE_KEY_FILE"]
    public_file = env["AYOLINX_PUBLIC_KEY_FILE"]
    assert out[1] == (
        f"✔ variables    AYOLINX_CLIENT_KEY={mask(env['AYOLINX_CLIENT_KEY'])},"
        f" AYOLINX_CLIENT_SECRET={mask(env['AYOLINX_CLIENT_SECRET'])},"
        f" AYOLINX_PRIVATE_KEY_FILE={key_file}, AYOLINX_BASE_URL={served.base_url},"
        f" AYOLINX_PUBLIC_KEY_FILE={public_file} (RSA-2048)"
    )
    assert re.fullmatch(
        r"✔ private key  RSA-2048 sha256:[0-9a-f]{64}; its public half is printed below", out[2]
    )
    assert out[3] == "✔ proxy        none: connecting directly"
    assert out[4] == "✔ dns          127.0.0.1 -> 127.0.0.1"
    port = served.base_url.rsplit(":", 1)[1]
    assert re.fullmatch(rf"✔ tcp          connected to 127\.0\.0\.1:{port} in \d+ ms", out[5])
    assert out[6] == "- tls          n/a: the base URL is http://"
    assert out[7] == "✔ clock        within 60 s of the server's Date header"
    assert out[8] == "✔ token        access token received (Bearer, valid 900 s)"
    assert out[9] == (
        "✔ read-only    /v1.0/qr/qr-mpm-query of an unknown reference -> 4045101 Transaction"
        " Not Found: signing and routing work"
    )
    assert out[-1] == "All checks passed."
    # The public half of the configured key, ready to compare with the back office.
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pem.decode() in result.stdout
    # Secrets are masked: never the whole secret, never the private key.
    assert env["AYOLINX_CLIENT_SECRET"] not in result.stdout
    assert "PRIVATE KEY" not in result.stdout


def test_json_lists_each_check(env: dict[str, str]) -> None:
    result = doctor(env, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["exit_code"] == 0
    assert [(c["name"], c["status"]) for c in report["checks"]] == [
        ("variables", "pass"),
        ("private key", "pass"),
        ("proxy", "pass"),
        ("dns", "pass"),
        ("tcp", "pass"),
        ("tls", "skip"),
        ("clock", "pass"),
        ("token", "pass"),
        ("read-only", "skip"),
    ]
    assert set(report["checks"][0]) == {"name", "ok", "status", "detail", "hint"}
    assert report["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_wrong_private_key_is_refused_by_the_token_call(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["AYOLINX_PRIVATE_KEY_FILE"] = str(write_key(tmp_path / "other.pem"))
    result = doctor(env, "--call-read-only")
    assert result.returncode == 1
    out = lines(result)
    index = out.index("✘ token        HTTP 401 4017300 Unauthorized. Signature")
    assert out[index + 1] == KEY_HINT
    assert out[index + 2] == "- read-only    not run: no access token"
    assert out[-1] == "1 check(s) failed (token): exit status 1"


def test_wrong_client_secret_is_refused_by_the_read_only_call(env: dict[str, str]) -> None:
    env["AYOLINX_CLIENT_SECRET"] = "SKSandbox-not-the-right-secret"
    result = doctor(env, "--call-read-only")
    assert result.returncode == 1
    out = lines(result)
    assert "✔ token        access token received (Bearer, valid 900 s)" in out
    index = out.index("✘ read-only    HTTP 401 4015100 Unauthorized. Signature")
    assert out[index + 1] == (
        "  hint:        the request signature was refused: AYOLINX_CLIENT_SECRET is wrong (it"
        " keys the HMAC; the token worked, so the private key and client key are right)"
    )


def test_refused_port_is_a_network_failure(env: dict[str, str]) -> None:
    port = free_port()
    env["AYOLINX_BASE_URL"] = f"http://127.0.0.1:{port}"
    result = doctor(env)
    assert result.returncode == 4
    out = lines(result)
    index = out.index(f"✘ tcp          cannot connect to 127.0.0.1:{port}: Connection refused")
    assert out[index + 1] == (
        "  hint:        nothing listens there: check the port in AYOLINX_BASE_URL and that the"
        " server (or `ayolinx simulator`) is running"
    )
    assert "- token        not run: the server is not reachable" in out
    report = json.loads(doctor(env, "--json").stdout)
    assert report["exit_code"] == 4
    [tcp] = [c for c in report["checks"] if c["name"] == "tcp"]
    assert tcp["ok"] is False


def test_an_html_proxy_page_is_named(env: dict[str, str], served: Served) -> None:
    with html_server() as proxy:
        env.update(HTTP_PROXY=proxy, NO_PROXY="")
        result = doctor(env)
    assert result.returncode == 4
    out = lines(result)
    assert f"✔ proxy        {proxy} (from HTTP_PROXY)" in out
    assert "✔ dns          127.0.0.1 (the proxy from HTTP_PROXY) -> 127.0.0.1" in out
    index = out.index("✘ token        not an Ayolinx answer: HTTP 200, text/html, 79 bytes")
    assert out[index + 1] == (
        "  hint:        an HTML page answered, not Ayolinx: a proxy, firewall or captive portal"
        " replied (HTTP_PROXY is set); check HTTP_PROXY/HTTPS_PROXY/NO_PROXY and AYOLINX_BASE_URL"
    )


def test_plain_http_on_an_https_url_fails_tls_and_a_bad_host_fails_dns(
    env: dict[str, str],
) -> None:
    with html_server() as plain:
        env["AYOLINX_BASE_URL"] = plain.replace("http://", "https://")
        result = doctor(env, "--call-read-only")
    assert result.returncode == 4
    out = lines(result)
    [tls] = [
        i for i, line in enumerate(out) if line.startswith("✘ tls          handshake failed: ")
    ]
    assert out[tls + 1] == (
        "  hint:        the server does not speak TLS on this port (http:// is only for a local"
        " simulator)"
    )
    assert out[tls + 2 :][:3] == [
        "- clock        not run: the server is not reachable",
        "- token        not run: the server is not reachable",
        "- read-only    not run: no access token",
    ]
    env["AYOLINX_BASE_URL"] = "https://ayolinx.invalid"
    unresolved = doctor(env)
    assert unresolved.returncode == 4
    assert any(line.startswith("✘ dns          ") for line in lines(unresolved))


def test_a_skewed_clock_is_found_and_explains_the_token_failure(tmp_path: Path) -> None:
    def server_clock() -> float:
        return time.time() + 7200  # the server is 2 h ahead of this machine

    sim = Simulator(clock=server_clock)
    account = sim.merchant
    assert account.private_key is not None
    key_file = tmp_path / "merchant.pem"
    key_file.write_bytes(
        account.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with serve_in_thread(sim, server_clock) as base_url:
        env = clean_env(
            AYOLINX_BASE_URL=base_url,
            AYOLINX_CLIENT_KEY=account.client_key,
            AYOLINX_CLIENT_SECRET=account.client_secret,
            AYOLINX_PRIVATE_KEY_FILE=str(key_file),
        )
        result = doctor(env)
    assert result.returncode == 1, result.stdout + result.stderr
    out = lines(result)
    index = out.index(
        "✘ clock        this machine's clock is 120 min behind the server's (Date header)"
    )
    assert out[index + 1] == CLOCK_HINT
    index = out.index(
        "✘ token        HTTP 401 4017300 Unauthorized. X-TIMESTAMP outside the allowed window"
    )
    assert out[index + 1] == CLOCK_HINT
    assert out[-1] == "2 check(s) failed (clock, token): exit status 1"


def test_bad_variables_are_a_configuration_failure(env: dict[str, str]) -> None:
    del env["AYOLINX_CLIENT_SECRET"]
    env["AYOLINX_CLIENT_KEY"] = f" {env['AYOLINX_CLIENT_KEY']}"
    env["AYOLINX_BASE_URL"] += "/v1.0"
    result = doctor(env)
    assert result.returncode == 3
    out = lines(result)
    assert out[1] == (
        "✘ variables    AYOLINX_CLIENT_KEY has spaces or a line break around it;"
        " AYOLINX_CLIENT_SECRET is missing; AYOLINX_BASE_URL ends in a path ('/v1.0')"
    )
    assert out[2] == (
        "  hint:        strip them from AYOLINX_CLIENT_KEY; set AYOLINX_CLIENT_SECRET (from the"
        " Ayolinx back office); give only the scheme and host, e.g. https://sandbox.ayolinx.id;"
        " the SDK adds /v1.0/… itself"
    )
    assert "- token        not run: fix the variables and the private key first" in out
    nothing = cli(
        "doctor", "--timeout", "1", env=clean_env(AYOLINX_BASE_URL=env["AYOLINX_BASE_URL"])
    )
    assert nothing.returncode == 3
    assert "- private key  not checked: no readable key is configured" in lines(nothing)


def test_a_small_key_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    env["AYOLINX_PRIVATE_KEY_FILE"] = str(write_key(tmp_path / "small.pem", bits=1024))
    result = doctor(env)
    assert result.returncode == 3
    out = lines(result)
    assert out[2] == ("✘ private key  RSA-1024 is too small: Ayolinx requires at least 2048 bits")


def test_proxy_selection_follows_the_proxy_variables() -> None:
    url = "https://sandbox.ayolinx.id"
    assert proxy_for(url, {}) is None
    assert proxy_for(url, {"HTTPS_PROXY": "http://p:3128"}) == ("http://p:3128", "HTTPS_PROXY")
    assert proxy_for(url, {"HTTP_PROXY": "http://p:3128"}) is None  # other scheme
    assert proxy_for(url, {"ALL_PROXY": "http://p:1", "NO_PROXY": ".ayolinx.id"}) is None
    assert proxy_for(url, {"all_proxy": "http://p:1", "no_proxy": "other.id"}) == (
        "http://p:1",
        "all_proxy",
    )
    assert proxy_for(url, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}) is None


def test_secrets_are_masked_to_four_characters_and_a_length() -> None:
    assert mask("SKSandbox-0123456789") == "SKSa… (20 chars)"
    assert mask("short") == "… (5 chars)"
    found = Findings(environ={"AYOLINX_CLIENT_KEY": "CK-1", "AYOLINX_CLIENT_SECRET": '"s3cr3t!!"'})
    check = check_variables(found)
    assert "s3cr3t" not in check.detail
    assert "AYOLINX_CLIENT_SECRET is wrapped in quotes" in check.detail


def test_key_text_in_the_file_variable_is_named_never_echoed(env: dict[str, str]) -> None:
    """A base64 key pasted into ``AYOLINX_PRIVATE_KEY_FILE``: one run of over 255 characters
    between slashes made ``is_file`` raise "file name too long" and the doctor died with the
    key as its message; it is a configuration failure now, the key text nowhere in the output."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    text = "QUJD" * 70 + "/" + base64.b64encode(der).decode("ascii")
    env["AYOLINX_PRIVATE_KEY_FILE"] = text
    result = doctor(env)
    assert result.returncode == 3
    out = lines(result)
    assert out[1] == "✘ variables    AYOLINX_PRIVATE_KEY_FILE does not name a file (key text?)"
    assert "- private key  not checked: no readable key is configured" in out
    for piece in [text[i : i + 24] for i in range(0, len(text) - 24, 24)]:
        assert piece not in result.stdout + result.stderr
    assert "internal error" not in result.stdout + result.stderr

"""``ayolinx keygen``, ``sign`` and ``verify-callback`` as a user runs them (subprocesses), checked
against our own loader and the ``openssl`` CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import ConfigurationError
from ayolinx_async._cli import ExitCode, main
from ayolinx_async._wire import BodyEncoding, encode_body, format_timestamp
from ayolinx_async.signing import (
    callback_string_to_sign,
    load_private_key,
    load_public_key,
    rsa_signature,
    service_string_to_sign,
    verify_rsa,
)

from ..conftest import CLIENT_KEY, CLIENT_SECRET
from ._tools import (
    capture_simulator_callback,
    clean_env,
    cli,
    cli_json,
    one_line_error,
    openssl,
    openssl_verifies,
    write_public_pem,
)

TIMESTAMP = "2024-09-18T13:36:36+07:00"
TOKEN = "gB9kPq2xN4vR7tY1wZ3aC5eH8jL0mQ6sU-_token"
PRETTY_BODY = (
    b'{\n  "partnerReferenceNo": "ORDER-7",\n'
    b'  "amount": {"value": "10000.00", "currency": "IDR"},\n'
    b'  "urlParams": [{"type": "NOTIFICATION", "url": "https://shop.test/ayolinx/notify"}]\n}\n'
)


@pytest.fixture
def merchant_files(tmp_path: Path, merchant_private_pem: bytes, merchant_public_pem: bytes) -> Path:
    keys = tmp_path / "merchant"
    keys.mkdir()
    (keys / "private.pem").write_bytes(merchant_private_pem)
    (keys / "public.pem").write_bytes(merchant_public_pem)
    return keys


# -- keygen ------------------------------------------------------------------------------------


def test_keygen_pair_loads_with_our_loader_and_openssl(tmp_path: Path) -> None:
    code, info = cli_json("keygen", "--out", str(tmp_path / "keys"))
    assert code == 0
    private = Path(info["private_key_file"])
    public = Path(info["public_key_file"])
    assert private == tmp_path / "keys" / "merchant_private.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")  # SPKI
    assert info["public_key_pem"] == public.read_text()
    assert info["bits"] == 2048
    assert info["encrypted"] is False

    key = load_private_key(private)
    assert key.key_size == 2048
    assert load_public_key(public).public_numbers() == key.public_key().public_numbers()
    assert openssl("pkey", "-in", str(private), "-noout").returncode == 0
    # A signature from the loaded key verifies with the public file under openssl.
    message = f"{CLIENT_KEY}|{TIMESTAMP}"
    assert openssl_verifies(public, message, rsa_signature(key, message), tmp_path)
    # The printed fingerprint is openssl's SHA-256 of the DER public key.
    der = openssl("pkey", "-pubin", "-in", str(public), "-outform", "DER").stdout
    assert info["fingerprint"] == "sha256:" + hashlib.sha256(der).hexdigest()


def test_keygen_encrypts_with_a_password_from_a_file(tmp_path: Path) -> None:
    password = tmp_path / "password.txt"
    password.write_text("correct horse battery\n")
    code, info = cli_json(
        "keygen", "--out", str(tmp_path), "--name", "shop", "--password-file", str(password)
    )
    assert code == 0
    assert info["encrypted"] is True
    private = Path(info["private_key_file"])
    assert private.name == "shop_private.pem"
    assert b"ENCRYPTED" in private.read_bytes()
    with pytest.raises(ConfigurationError, match="password is required"):
        load_private_key(private)
    assert load_private_key(private, "correct horse battery").key_size == 2048
    ok = openssl("pkey", "-in", str(private), "-passin", f"file:{password}", "-noout")
    assert ok.returncode == 0
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope\n")
    assert openssl("pkey", "-in", str(private), "-passin", f"file:{wrong}", "-noout").returncode


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    assert cli("keygen", "--out", str(tmp_path)).returncode == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = cli("keygen", "--out", str(tmp_path))
    assert again.returncode == 2
    assert "refusing to overwrite" in one_line_error(again)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # Only the public half present: still refused, and no private key is left behind.
    other = tmp_path / "other"
    other.mkdir()
    (other / "merchant_public.pem").write_text("keep me")
    refused = cli("keygen", "--out", str(other))
    assert refused.returncode == 2
    assert sorted(p.name for p in other.iterdir()) == ["merchant_public.pem"]
    assert (other / "merchant_public.pem").read_text() == "keep me"


def test_keygen_human_output_shows_the_public_key_to_paste(tmp_path: Path) -> None:
    result = cli("keygen", "--out", str(tmp_path))
    assert result.returncode == 0
    public = (tmp_path / "merchant_public.pem").read_text()
    assert public.strip() in result.stdout
    assert "PRIVATE KEY-----" not in result.stdout  # the private key is never printed
    assert f"AYOLINX_PRIVATE_KEY_FILE={tmp_path / 'merchant_private.pem'}" in result.stdout


# -- sign --------------------------------------------------------------------------------------


def test_sign_token_verified_by_openssl(merchant_files: Path, tmp_path: Path) -> None:
    code, out = cli_json(
        "sign", "token",
        "--client-key", CLIENT_KEY,
        "--private-key-file", str(merchant_files / "private.pem"),
        "--timestamp", TIMESTAMP,
    )  # fmt: skip
    assert code == 0
    assert out["string_to_sign"] == f"{CLIENT_KEY}|{TIMESTAMP}"
    assert out["headers"]["X-CLIENT-KEY"] == CLIENT_KEY
    assert out["headers"]["X-SIGNATURE"] == out["signature"]
    assert openssl_verifies(
        merchant_files / "public.pem", out["string_to_sign"], out["signature"], tmp_path
    )
    # Same inputs from the environment instead of options: same (deterministic) signature.
    env = clean_env(
        AYOLINX_CLIENT_KEY=CLIENT_KEY,
        AYOLINX_PRIVATE_KEY_FILE=str(merchant_files / "private.pem"),
    )
    code, from_env = cli_json("sign", "token", "--timestamp", TIMESTAMP, env=env)
    assert code == 0
    assert from_env["signature"] == out["signature"]


def test_sign_service_matches_openssl_hmac_and_masks_only_the_token_line(tmp_path: Path) -> None:
    body_file = tmp_path / "body.json"
    body_file.write_bytes(PRETTY_BODY)
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN + "\n")
    env = clean_env(AYOLINX_CLIENT_SECRET=CLIENT_SECRET, AYOLINX_CLIENT_KEY=CLIENT_KEY)
    args = (
        "sign", "service", "--path", "/v1.0/qr/qr-mpm-generate",
        "--access-token-file", str(token_file), "--timestamp", TIMESTAMP, str(body_file),
    )  # fmt: skip
    result = cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert CLIENT_SECRET not in result.stdout

    # The body digest is openssl's SHA-256 of the exact file bytes (raw is the default).
    digest = openssl("dgst", "-sha256", "-r", str(body_file)).stdout.split()[0].decode()
    assert out["body_sha256"] == digest
    assert out["body_bytes"] == len(PRETTY_BODY)
    # The signature is openssl's HMAC-SHA512 over the real (unmasked) string-to-sign.
    message = f"POST:/v1.0/qr/qr-mpm-generate:{TOKEN}:{digest}:{TIMESTAMP}"
    assert message == service_string_to_sign(
        "POST", "/v1.0/qr/qr-mpm-generate", TOKEN, PRETTY_BODY, TIMESTAMP
    )
    mac = openssl(
        "dgst", "-sha512", "-hmac", CLIENT_SECRET, "-binary", input_bytes=message.encode()
    )
    assert out["signature"] == base64.b64encode(mac.stdout).decode()
    # The string-to-sign is exact, token included, so it compares byte for byte; only the
    # token's own field and the Authorization header are masked.
    assert out["string_to_sign"] == message
    assert re.fullmatch(r"<access-token 40 chars sha256:[0-9a-f]{8}>", out["access_token"])
    assert out["headers"]["Authorization"] == f"Bearer {out['access_token']}"
    assert out["headers"]["X-PARTNER-ID"] == CLIENT_KEY
    # The file is not what the SDK would send: say so, with the compact digest.
    compact = encode_body(json.loads(PRETTY_BODY))
    assert out["body_sha256_if_encoded"]["compact"] == hashlib.sha256(compact).hexdigest()
    assert any("line break" in note for note in out["notes"])

    shown = cli(*args, "--json", "--show-secrets", env=env)
    unmasked = json.loads(shown.stdout)
    assert unmasked["string_to_sign"] == message
    assert unmasked["access_token"] == TOKEN
    assert unmasked["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert CLIENT_SECRET not in shown.stdout  # the secret is never printed

    human = cli(*args, env=env)
    assert human.returncode == 0
    assert out["signature"] in human.stdout
    assert re.search(rf"body sha256 +{digest}\n", human.stdout)
    assert re.search(rf"\n  string-to-sign +{re.escape(message)}\n", human.stdout)
    assert re.search(rf"\n  access token +{re.escape(out['access_token'])}\n", human.stdout)
    assert human.stdout.count(TOKEN) == 1  # only inside the string-to-sign


def test_sign_service_re_encodes_like_the_sdk(tmp_path: Path) -> None:
    body_file = tmp_path / "body.json"
    body_file.write_bytes(PRETTY_BODY)
    env = clean_env(AYOLINX_CLIENT_SECRET=CLIENT_SECRET, AYOLINX_ACCESS_TOKEN=TOKEN)
    for encoding in ("compact", "php"):
        code, out = cli_json(
            "sign", "service", "--path", "/p", "--timestamp", TIMESTAMP,
            "--encode", encoding, str(body_file), env=env,
        )  # fmt: skip
        sent = encode_body(json.loads(PRETTY_BODY), BodyEncoding(encoding))
        assert code == 0
        assert out["body_sha256"] == hashlib.sha256(sent).hexdigest()
        assert out["body_bytes"] == len(sent)
    assert b"\\/" in encode_body(json.loads(PRETTY_BODY), BodyEncoding.PHP)  # really differs


def test_sign_service_reads_the_token_from_stdin_and_the_body_from_an_option() -> None:
    env = clean_env(AYOLINX_CLIENT_SECRET=CLIENT_SECRET)
    code, out = cli_json(
        "sign", "service", "--path", "/p", "--timestamp", TIMESTAMP, "--body", "{}",
        "--access-token-file", "-", "--show-secrets", env=env, stdin=TOKEN + "\n",
    )  # fmt: skip
    assert code == 0
    assert out["string_to_sign"] == service_string_to_sign("POST", "/p", TOKEN, b"{}", TIMESTAMP)


def test_sign_callback_with_a_test_key_is_verified_by_openssl(
    merchant_files: Path, tmp_path: Path
) -> None:
    body = b'{"latestTransactionStatus":"00","originalPartnerReferenceNo":"ORDER-7"}'
    (tmp_path / "cb.json").write_bytes(body)
    code, out = cli_json(
        "sign", "callback", "--path", "/hooks/ayolinx", "--timestamp", TIMESTAMP,
        "--private-key-file", str(merchant_files / "private.pem"), str(tmp_path / "cb.json"),
    )  # fmt: skip
    assert code == 0
    assert out["string_to_sign"] == callback_string_to_sign(
        "POST", "/hooks/ayolinx", body, TIMESTAMP
    )
    assert openssl_verifies(
        merchant_files / "public.pem", out["string_to_sign"], out["signature"], tmp_path
    )
    # Without a key: the string-to-sign only, nothing signed.
    code, unsigned = cli_json(
        "sign", "callback", "--path", "/hooks/ayolinx", "--timestamp", TIMESTAMP,
        str(tmp_path / "cb.json"),
    )  # fmt: skip
    assert code == 0
    assert unsigned["signature"] is None
    assert unsigned["headers"] == {}
    assert unsigned["string_to_sign"] == out["string_to_sign"]


def test_sign_reports_missing_secrets_as_configuration_errors(tmp_path: Path) -> None:
    missing_secret = cli("sign", "service", "--path", "/p", "--body", "{}")
    assert missing_secret.returncode == 3
    assert "AYOLINX_CLIENT_SECRET" in one_line_error(missing_secret)
    missing_token = cli(
        "sign", "service", "--path", "/p", "--body", "{}",
        env=clean_env(AYOLINX_CLIENT_SECRET=CLIENT_SECRET),
    )  # fmt: skip
    assert missing_token.returncode == 3
    assert "ayolinx token --show-token" in one_line_error(missing_token)
    missing_key = cli("sign", "token", "--client-key", "CK")
    assert missing_key.returncode == 3
    assert "--private-key-file" in one_line_error(missing_key)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    broken = cli("sign", "token", "--client-key", "CK", "--private-key-file", str(garbage))
    assert broken.returncode == 3
    assert "could not load the key" in one_line_error(broken)


# -- verify-callback ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim_callback(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A callback signed by the simulator: (public key file, body file, header values)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    captured = capture_simulator_callback(key, "http://shop.test/hooks/ayolinx", "CB-1")
    work = tmp_path_factory.mktemp("callback")
    body = work / "body.json"
    body.write_bytes(captured.body)
    headers = {
        "path": captured.path,
        "timestamp": captured.timestamp,
        "signature": captured.signature,
    }
    return write_public_pem(key, work / "ayolinx_public.pem"), body, headers


def _verify_args(public: Path, headers: dict[str, str], body: Path, **overrides: str) -> list[str]:
    values = {**headers, **overrides}
    return [
        "verify-callback", "--public-key", str(public), "--path", values["path"],
        "--timestamp", values["timestamp"], "--signature", values["signature"], str(body),
    ]  # fmt: skip


def test_verify_callback_accepts_a_simulator_signed_callback(
    sim_callback: tuple[Path, Path, dict[str, str]],
) -> None:
    public, body, headers = sim_callback
    assert headers["path"] == "/hooks/ayolinx"
    result = cli(*_verify_args(public, headers, body))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("VALID: the signature verifies")
    code, out = cli_json(*_verify_args(public, headers, body))
    assert code == 0
    assert out["valid"] is True
    assert out["signature_valid"] is True
    assert out["timestamp"]["ok"] is True
    assert abs(out["timestamp"]["skew_seconds"]) < 60
    assert out["body_sha256"] == hashlib.sha256(body.read_bytes()).hexdigest()
    # The public key from the environment works the same.
    env = clean_env(AYOLINX_PUBLIC_KEY_FILE=str(public))
    args = [
        a for a in _verify_args(public, headers, body) if a not in {"--public-key", str(public)}
    ]
    assert cli(*args, env=env).returncode == 0


def test_verify_callback_rejects_a_tampered_body(
    sim_callback: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    public, body, headers = sim_callback
    data = json.loads(body.read_bytes())
    data["amount"]["value"] = "1.00"
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(encode_body(data))
    result = cli(*_verify_args(public, headers, tampered))
    assert result.returncode == 1
    assert result.stdout.startswith("INVALID: the signature does not verify")
    assert "hint:" not in result.stdout  # no variant explains a changed amount
    code, out = cli_json(*_verify_args(public, headers, tampered))
    assert code == 1
    assert out["valid"] is False
    assert out["signature_valid"] is False


def test_verify_callback_rejects_another_key_and_a_bad_signature(
    sim_callback: tuple[Path, Path, dict[str, str]], merchant_files: Path
) -> None:
    public, body, headers = sim_callback
    other = cli(*_verify_args(merchant_files / "public.pem", headers, body))
    assert other.returncode == 1
    # Several keys (rotation): valid if any of them verifies.
    both = [
        *_verify_args(public, headers, body),
        "--public-key",
        str(merchant_files / "public.pem"),
    ]
    assert cli(*both).returncode == 0
    garbled = cli(*_verify_args(public, headers, body, signature="not*base64"))
    assert garbled.returncode == 1
    assert "X-SIGNATURE is not valid base64" in garbled.stdout
    hmac_like = base64.b64encode(b"x" * 64).decode()
    short = cli(*_verify_args(public, headers, body, signature=hmac_like))
    assert (
        "the signature is 64 bytes; an RSA signature from these keys is 256 bytes" in short.stdout
    )


def test_verify_callback_hints_at_the_path_ayolinx_really_signed(
    merchant_files: Path, tmp_path: Path
) -> None:
    body = tmp_path / "notify.json"
    body.write_bytes(b'{"latestTransactionStatus":"00"}')
    key = load_private_key(merchant_files / "private.pem")
    now = format_timestamp(datetime.now(UTC).timestamp())
    documented = "/v1.0/qr/qr-mpm-notify"
    signature = rsa_signature(
        key, callback_string_to_sign("POST", documented, body.read_bytes(), now)
    )
    headers = {"path": "/hooks/ayolinx", "timestamp": now, "signature": signature}
    code, out = cli_json(*_verify_args(merchant_files / "public.pem", headers, body))
    assert code == 1
    assert [h["path"] for h in out["hints"]] == [documented]
    assert "NotifyRoute(signed_path='/v1.0/qr/qr-mpm-notify')" in out["hints"][0]["message"]
    # A trailing slash on the registered URL is found too.
    slash = rsa_signature(
        key, callback_string_to_sign("POST", "/hooks/ayolinx/", body.read_bytes(), now)
    )
    code, out = cli_json(
        *_verify_args(merchant_files / "public.pem", headers, body, signature=slash)
    )
    assert code == 1
    assert [h["path"] for h in out["hints"]] == ["/hooks/ayolinx/"]


def test_verify_callback_hints_at_a_reformatted_body(
    sim_callback: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    public, body, headers = sim_callback
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(body.read_bytes()), indent=2) + "\n")
    code, out = cli_json(*_verify_args(public, headers, pretty))
    assert code == 1
    [hint] = out["hints"]
    assert hint["body"] == "re-encoded as compact JSON"
    assert hint["path"] == "/hooks/ayolinx"
    assert "not the exact bytes received" in hint["message"]


def test_verify_callback_checks_the_timestamp_window(merchant_files: Path, tmp_path: Path) -> None:
    body = tmp_path / "notify.json"
    body.write_bytes(b'{"latestTransactionStatus":"00"}')
    stale = format_timestamp((datetime.now(UTC) - timedelta(hours=2)).timestamp())
    code, signed = cli_json(
        "sign", "callback", "--path", "/hooks/ayolinx", "--timestamp", stale,
        "--private-key-file", str(merchant_files / "private.pem"), str(body),
    )  # fmt: skip
    assert code == 0
    headers = {"path": "/hooks/ayolinx", "timestamp": stale, "signature": signed["signature"]}
    public = merchant_files / "public.pem"
    old = cli(*_verify_args(public, headers, body))
    assert old.returncode == 1
    assert "X-TIMESTAMP is 2.0 h old (window ±3600 s)" in old.stdout
    assert "signature       verifies" in old.stdout  # the signature itself is fine
    assert cli(*_verify_args(public, headers, body), "--skip-time-check").returncode == 0
    assert cli(*_verify_args(public, headers, body), "--tolerance", "10800").returncode == 0
    future = format_timestamp((datetime.now(UTC) + timedelta(hours=3)).timestamp())
    ahead = cli(*_verify_args(public, headers, body, timestamp=future))
    assert ahead.returncode == 1
    assert "in the future" in ahead.stdout
    malformed = cli(*_verify_args(public, headers, body, timestamp="2024-09-18 13:36:36"))
    assert malformed.returncode == 1
    assert "X-TIMESTAMP is not yyyy-MM-dd" in malformed.stdout


def test_verify_callback_without_a_public_key_is_a_configuration_error(tmp_path: Path) -> None:
    body = tmp_path / "b.json"
    body.write_text("{}")
    result = cli(
        "verify-callback", "--path", "/x", "--timestamp", TIMESTAMP, "--signature", "AAAA",
        str(body),
    )  # fmt: skip
    assert result.returncode == 3
    assert "AYOLINX_PUBLIC_KEY_FILE" in one_line_error(result)


# -- usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["sign", "token", "--bogus"], "unrecognized arguments: --bogus"),
        (["sign"], "required: SCHEME"),
        (["sign", "service", "--body", "{}"], "required: --path"),
        (["sign", "service", "--path", "https://x.test/v1.0/a", "--body", "{}"], "'/v1.0/a'"),
        (["sign", "service", "--path", "/p"], "the body is missing"),
        (
            ["sign", "callback", "--path", "/p", "--timestamp", "yesterday", "--body", "{}"],
            "is not yyyy",
        ),
        (["keygen"], "required: --out"),
        (["keygen", "--out", "k", "--bits", "1024"], "invalid choice: 1024"),
        (["verify-callback", "--path", "/p"], "required"),
        (["call", "/v1.0/qr/qr-mpm-query", "missing.json"], "cannot read 'missing.json'"),
        (["call", "v1.0/qr", "missing.json"], "PATH must start with '/'"),
        (["demo", "--json"], "--json is not supported"),
        (["keygen", "--out", "k", "--prompt-password"], "needs a terminal"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    args: list[str], needle: str, tmp_path: Path
) -> None:
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line_error(result)
    assert line.startswith("ayolinx")
    assert needle in line
    assert not (tmp_path / "k").exists()


def test_signature_tools_need_no_network(tmp_path: Path, merchant_files: Path) -> None:
    """keygen/sign/verify work with every proxy pointing at a dead port."""
    env = clean_env(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    env.pop("NO_PROXY")
    code, out = cli_json(
        "sign", "token", "--client-key", "CK", "--timestamp", TIMESTAMP,
        "--private-key-file", str(merchant_files / "private.pem"), env=env,
    )  # fmt: skip
    assert code == 0
    key = load_public_key(merchant_files / "public.pem")
    assert verify_rsa(key, f"CK|{TIMESTAMP}", out["signature"])


def test_main_in_process_maps_errors_and_writes_json(
    merchant_files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AYOLINX_PUBLIC_KEY", "AYOLINX_PUBLIC_KEY_FILE", "AYOLINX_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    argv = [
        "--json", "sign", "token", "--client-key", "CK", "--timestamp", TIMESTAMP,
        "--private-key-file", str(merchant_files / "private.pem"),
    ]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["string_to_sign"] == f"CK|{TIMESTAMP}"
    body = merchant_files / "body.json"
    body.write_text("{}")
    code = main(
        ["verify-callback", "--path", "/x", "--timestamp", TIMESTAMP, "--signature", "AAAA",
         str(body), "--json"]
    )  # fmt: skip
    assert code == ExitCode.CONFIGURATION
    captured = capsys.readouterr()
    assert captured.err.startswith("ayolinx verify-callback: configuration error: no Ayolinx")
    assert json.loads(captured.out)["error"]["exit_code"] == 3

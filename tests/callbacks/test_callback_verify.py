"""CallbackVerifier on its own, and against signatures made by the openssl CLI."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._errors import ConfigurationError
from ayolinx_async.callbacks import (
    CallbackHandler,
    CallbackRejected,
    CallbackVerifier,
    Headers,
    load_public_keys,
)
from ayolinx_async.signing import callback_string_to_sign, token_string_to_sign

from ._helpers import (
    CLIENT_KEY,
    CLIENT_SECRET,
    NOTIFY_PATH,
    TOKEN_PATH,
    FakeClock,
    Recorder,
    notify_headers,
    qris_body,
    token_body,
)

OPENSSL = shutil.which("openssl")


def test_headers_view() -> None:
    view = Headers([(b"X-Signature", b" abc "), ("x-timestamp", "t"), ("X-TIMESTAMP", "u")])
    assert view.get("x-signature") == "abc"
    assert view.one("X-SIGNATURE") == "abc"
    assert "X-Timestamp" in view
    with pytest.raises(CallbackRejected) as dup:
        view.one("x-timestamp")
    assert dup.value.reason == "duplicate_header"
    with pytest.raises(CallbackRejected) as missing:
        view.one("authorization")
    assert (missing.value.http_status, missing.value.case_code) == (400, "02")


def test_verifier_returns_timestamp_and_checks_window(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock = FakeClock()
    verifier = CallbackVerifier(ayolinx_key.public_key(), clock=clock, tolerance=600)
    body = qris_body()
    stamp = clock.stamp()
    headers = notify_headers(ayolinx_key, body, stamp)
    assert verifier.verify_notification(path=NOTIFY_PATH, headers=headers, body=body) == stamp
    clock.advance(601)
    with pytest.raises(CallbackRejected) as stale:
        verifier.verify_notification(path=NOTIFY_PATH, headers=headers, body=body)
    assert stale.value.reason == "stale_timestamp"
    clock.advance(-1202)
    with pytest.raises(CallbackRejected) as future:
        verifier.verify_notification(path=NOTIFY_PATH, headers=headers, body=body)
    assert future.value.reason == "future_timestamp"


def test_other_offsets_are_the_same_instant(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock = FakeClock(now=1_726_641_396.0)  # 2024-09-18T13:36:36+07:00
    verifier = CallbackVerifier(ayolinx_key.public_key(), clock=clock)
    body = qris_body()
    for stamp in ("2024-09-18T06:36:36+00:00", "2024-09-18T06:36:36Z", "2024-09-18T13:36:36+07:00"):
        headers = notify_headers(ayolinx_key, body, stamp)
        assert verifier.verify_notification(path=NOTIFY_PATH, headers=headers, body=body) == stamp


def test_hmac_needs_client_secret(ayolinx_key: rsa.RSAPrivateKey) -> None:
    verifier = CallbackVerifier(ayolinx_key.public_key())
    with pytest.raises(ConfigurationError):
        verifier.verify_service_signature(path="/x", access_token="t", headers={}, body=b"")


def test_load_public_keys_forms(ayolinx_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    pub = ayolinx_key.public_key()
    pem = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1 = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    (tmp_path / "k.pem").write_bytes(pem)
    assert len(load_public_keys(pem)) == 1
    assert len(load_public_keys(pem.decode() + pkcs1.decode())) == 2
    assert len(load_public_keys([pub, tmp_path / "k.pem", str(tmp_path / "k.pem")])) == 3
    with pytest.raises(ConfigurationError):
        load_public_keys(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


# --- independent implementation: the openssl CLI ----------------------------------------------


def _openssl_sign(key_file: Path, message: str, tmp_path: Path) -> str:
    """``openssl dgst -sha256 -sign key.pem`` over the string to sign, base64 by openssl too."""
    assert OPENSSL is not None
    data = tmp_path / "string-to-sign.txt"
    data.write_bytes(message.encode("utf-8"))
    sig = tmp_path / "sig.bin"
    subprocess.run(
        [OPENSSL, "dgst", "-sha256", "-sign", str(key_file), "-out", str(sig), str(data)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [OPENSSL, "base64", "-A", "-in", str(sig)], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


@pytest.fixture
def openssl_keys(ayolinx_key: rsa.RSAPrivateKey, tmp_path: Path) -> tuple[Path, bytes]:
    """Ayolinx's key as PKCS#1 PEM on disk, and the public key as openssl itself derives it."""
    if OPENSSL is None:
        pytest.skip("openssl CLI not installed")
    key_file = tmp_path / "ayolinx_private.pem"
    key_file.write_bytes(
        ayolinx_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = subprocess.run(
        [OPENSSL, "pkey", "-in", str(key_file), "-pubout"], check=True, capture_output=True
    ).stdout
    return key_file, public


@pytest.mark.anyio
async def test_openssl_signed_notify_and_token_request_are_accepted(
    openssl_keys: tuple[Path, bytes], tmp_path: Path
) -> None:
    key_file, public_pem = openssl_keys
    clock = FakeClock()
    recorder = Recorder()
    handler = CallbackHandler(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_keys=public_pem,
        on_event=recorder,
        clock=clock,
    )
    body = qris_body()
    stamp = clock.stamp()
    signature = _openssl_sign(
        key_file, callback_string_to_sign("POST", NOTIFY_PATH, body, stamp), tmp_path
    )
    assert len(base64.b64decode(signature)) == 256
    headers = {"X-TIMESTAMP": stamp, "X-SIGNATURE": signature}
    response = await handler("POST", NOTIFY_PATH, headers, body)
    assert response.status == 200
    assert len(recorder.events) == 1
    # The same openssl signature over a body with one byte changed must fail.
    tampered = body.replace(b"ORD-QRIS-1", b"ORD-QRIS-2")
    rejected = await handler("POST", NOTIFY_PATH, headers, tampered)
    assert rejected.status == 401

    token_sig = _openssl_sign(key_file, token_string_to_sign(CLIENT_KEY, stamp), tmp_path)
    token_headers = {"X-TIMESTAMP": stamp, "X-CLIENT-KEY": CLIENT_KEY, "X-SIGNATURE": token_sig}
    issued = await handler("POST", TOKEN_PATH, token_headers, token_body())
    assert issued.status == 200
    assert issued.json()["responseCode"] == "2007300"

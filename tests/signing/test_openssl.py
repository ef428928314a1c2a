"""Our signatures checked by an independent implementation: the openssl CLI."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._wire import encode_body
from ayolinx_async.signing import LocalSigner, service_string_to_sign, token_string_to_sign
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI required")

TS = "2024-09-18T13:36:36+07:00"
TRICKY_BODY = {
    "partnerReferenceNo": "ORD:2024:0001",
    "customerName": "Budi Śantoso — 支付",
    "urlParams": [{"type": "NOTIFICATION", "url": "https://merchant.example/cb?x=1&y=2"}],
    "amount": {"currency": "IDR", "value": "10000.00"},
}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_openssl_verifies_token_signature(
    tmp_path: Path, merchant_key: rsa.RSAPrivateKey, merchant_public_pem: bytes
) -> None:
    signer = LocalSigner(merchant_key, CLIENT_SECRET)
    message = token_string_to_sign(CLIENT_KEY, TS)
    signature = await signer.sign_token(message)
    (tmp_path / "pub.pem").write_bytes(merchant_public_pem)
    (tmp_path / "msg").write_bytes(message.encode())
    (tmp_path / "sig").write_bytes(base64.b64decode(signature))
    result = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout
    # And a tampered message fails under openssl too (the check can fail).
    (tmp_path / "msg").write_bytes(message.encode() + b"x")
    bad = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("body", [TRICKY_BODY, {}], ids=["url-nonascii-colon", "empty-object"])
async def test_openssl_reproduces_service_signature(
    tmp_path: Path, merchant_key: rsa.RSAPrivateKey, body: dict[str, object]
) -> None:
    signer = LocalSigner(merchant_key, CLIENT_SECRET)
    raw = encode_body(body)
    message = service_string_to_sign("POST", "/v1.0/qr/qr-mpm-generate", "tok-abc", raw, TS)
    ours = await signer.sign_service(message)
    (tmp_path / "body").write_bytes(raw)
    # Independent body hash and HMAC: openssl computes both from the raw bytes.
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-r", "body"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert f":{digest}:" in message
    (tmp_path / "msg").write_bytes(message.encode("utf-8"))
    mac = subprocess.run(
        ["openssl", "dgst", "-sha512", "-hmac", CLIENT_SECRET, "-binary", "msg"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    assert base64.b64encode(mac).decode() == ours

"""Shared fixtures: per-session RSA keys (nothing private is committed), credentials, backends."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import Credentials

CLIENT_KEY = "CKSandbox-154dc98b-f8ea-4a68-a9f7-6f4e8963b86c"
CLIENT_SECRET = "SKSandbox-5ecret-8a1b-4c2d-9e3f-0a1b2c3d4e5f"


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    """The merchant's RSA-2048 key pair (signs token requests)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ayolinx_key() -> rsa.RSAPrivateKey:
    """Ayolinx's RSA-2048 key pair (signs callbacks)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def merchant_private_pem(merchant_key: rsa.RSAPrivateKey) -> bytes:
    return merchant_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="session")
def merchant_public_pem(merchant_key: rsa.RSAPrivateKey) -> bytes:
    return merchant_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def credentials(merchant_private_pem: bytes, ayolinx_key: rsa.RSAPrivateKey) -> Credentials:
    return Credentials(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        private_key=merchant_private_pem,
        ayolinx_public_key=ayolinx_key.public_key(),
    )


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on asyncio and on trio."""
    return str(request.param)


@pytest.fixture(autouse=True)
def no_secret_leaks(
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Suite-wide: no secret, token, signature or key text in any captured log record, SDK
    exception (``str``/``repr``) or token repr. The SDK logger is captured at DEBUG so every
    test that makes a call also exercises its logging (see tests/reliability/_secret_watch.py)."""
    from tests.reliability._secret_watch import SecretWatch, check

    watch = SecretWatch()
    watch.install(monkeypatch)
    caplog.set_level(logging.DEBUG, logger="ayolinx_async")
    yield
    check(request, watch, [*caplog.get_records("setup"), *caplog.get_records("call")])

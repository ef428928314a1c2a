"""Product-test fixtures: credentials with an already-loaded key (PEM parsing costs ~25 ms)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import Credentials
from tests.conftest import CLIENT_KEY, CLIENT_SECRET


@pytest.fixture(scope="session")
def credentials(merchant_key: rsa.RSAPrivateKey) -> Credentials:
    return Credentials(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=merchant_key)

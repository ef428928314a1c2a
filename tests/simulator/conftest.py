"""Fixtures for simulator tests: a fake clock, a merchant account from the session keys, a
recording merchant app and a simulator wired to it in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.simulator import MerchantAccount, Simulator
from tests._fakes import FakeClock
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

from ._helpers import MerchantApp, RawCaller

CALLBACK_URL = "http://merchant.test/hooks/ayolinx"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def account(merchant_key: rsa.RSAPrivateKey) -> MerchantAccount:
    return MerchantAccount(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        public_key=merchant_key.public_key(),
        private_key=merchant_key,
        callback_url=CALLBACK_URL,
    )


@pytest.fixture
def merchant_app() -> MerchantApp:
    return MerchantApp()


@pytest.fixture
async def sim(
    account: MerchantAccount,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    merchant_app: MerchantApp,
) -> AsyncIterator[Simulator]:
    http = merchant_app.client()
    simulator = Simulator(account, ayolinx_key=ayolinx_key, clock=clock, http_client=http, seed=7)
    async with simulator:
        yield simulator
    await http.aclose()


@pytest.fixture
async def raw(
    sim: Simulator, merchant_key: rsa.RSAPrivateKey, clock: FakeClock
) -> AsyncIterator[RawCaller]:
    caller = RawCaller(
        sim,
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        private_key=merchant_key,
        clock=clock,
    )
    yield caller
    await caller.aclose()


@pytest.fixture
async def pages(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """The simulator's pages and admin routes over ASGI (no sockets)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim), base_url="http://ayolinx.simulator"
    ) as client:
        yield client

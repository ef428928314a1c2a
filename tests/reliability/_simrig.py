"""The embedded simulator wired for reliability tests: shared fake clock, a fault-injecting
transport in front of its in-process transport, and recorded backoff sleeps."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient, HttpRequest, HttpResponse, Transport
from ayolinx_async.simulator import MerchantAccount, Simulator
from ayolinx_async.testing import FaultInjectingTransport
from tests.conftest import CLIENT_KEY, CLIENT_SECRET
from tests.reliability._gateway import Clock, Sleeps


class Ticking:
    """A transport wrapper that runs ``on_send(path)`` as each request goes out (to move a
    shared fake clock, or to revoke tokens at an exact moment), then yields once so other
    calls interleave between this request's signing and its arrival (the in-process transport
    would otherwise run every call start to finish without a single switch)."""

    def __init__(self, inner: Transport, on_send: Callable[[str], None]) -> None:
        self._inner = inner
        self._on_send = on_send
        self.in_flight = 0
        self.peak = 0
        """Most requests ever on the wire at once (proof the calls really overlapped)."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        self._on_send(urlsplit(request.url).path)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.lowlevel.checkpoint()
            return await self._inner.send(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self._inner.aclose()


@attrs.frozen(kw_only=True)
class SimRig:
    sim: Simulator
    client: AyolinxClient
    faults: FaultInjectingTransport
    sleeps: Sleeps
    clock: Clock

    def sim_requests_to(self, path: str) -> int:
        """How many requests to ``path`` the simulator received and answered."""
        return sum(1 for record in self.sim.requests() if record.path == path)


def account_for(merchant_key: rsa.RSAPrivateKey) -> MerchantAccount:
    """The test merchant (session key, constant client key and secret), with no callback URL
    so no delivery traffic runs alongside the calls under test."""
    return MerchantAccount(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        public_key=merchant_key.public_key(),
        private_key=merchant_key,
    )


@contextlib.asynccontextmanager
async def sim_rig(
    merchant_key: rsa.RSAPrivateKey,
    *,
    clock: Clock | None = None,
    wrap: Callable[[Transport], Transport] | None = None,
    sim_options: dict[str, Any] | None = None,
    **client_options: Any,
) -> AsyncIterator[SimRig]:
    clock = clock or Clock()
    sim = Simulator(account_for(merchant_key), clock=clock, seed=11, **(sim_options or {}))
    inner: Transport = sim.transport()
    if wrap is not None:
        inner = wrap(inner)
    faults = FaultInjectingTransport(inner)
    sleeps = Sleeps(clock)
    client_options.setdefault("sleep", sleeps)
    async with sim:
        client = sim.client(transport=faults, **client_options)
        try:
            async with client:
                yield SimRig(sim=sim, client=client, faults=faults, sleeps=sleeps, clock=clock)
        finally:
            await faults.aclose()

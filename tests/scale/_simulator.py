"""The embedded Ayolinx simulator served on a loopback port for worker processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.simulator import MerchantAccount, Simulator
from tests.conftest import CLIENT_KEY, CLIENT_SECRET
from tests.scale._servers import serve_asgi


@contextmanager
def served_simulator(
    merchant_private_pem: bytes, **options: Any
) -> Iterator[tuple[Simulator, str]]:
    """A Simulator knowing the test merchant (tests.conftest keys), served by uvicorn."""
    account = MerchantAccount.from_keys(
        client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=merchant_private_pem
    )
    simulator = Simulator(account, **options)
    with serve_asgi(simulator) as base_url:
        yield simulator, base_url


def token_request_times(simulator: Simulator) -> list[float]:
    """Epoch seconds of every token request the simulator answered."""
    return [r.at for r in simulator.requests() if r.path == TOKEN_PATH]


def successful_generates(simulator: Simulator) -> int:
    return sum(
        1
        for r in simulator.requests()
        if r.path == "/v1.0/qr/qr-mpm-generate" and r.response_code == "2004700"
    )

"""Runs every conformance test against each transport: httpx on asyncio and trio, aiohttp on
asyncio only (aiohttp has no trio support)."""

from __future__ import annotations

import pytest

from ayolinx_async.transport import HttpxTransport, Timeout, Transport
from ayolinx_async.transport.aiohttp import AiohttpTransport

from .clients import TransportFactory

_COMBINATIONS = [("httpx", "asyncio"), ("httpx", "trio"), ("aiohttp", "asyncio")]


@pytest.fixture(params=_COMBINATIONS, ids=[f"{kind}-{backend}" for kind, backend in _COMBINATIONS])
def _combination(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def transport_kind(_combination: tuple[str, str]) -> str:
    """Which transport the test runs against: ``httpx`` or ``aiohttp``."""
    return _combination[0]


@pytest.fixture
def anyio_backend(_combination: tuple[str, str]) -> str:
    """Overrides the suite-wide backend so aiohttp never runs on trio."""
    return _combination[1]


@pytest.fixture
def make_transport(transport_kind: str) -> TransportFactory:
    """Builds the transport under test with its own HTTP client/session."""

    def factory(timeout: Timeout | None = None) -> Transport:
        if transport_kind == "httpx":
            return HttpxTransport(timeout=timeout)
        return AiohttpTransport(timeout=timeout)

    return factory

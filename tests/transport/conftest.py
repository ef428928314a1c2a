"""Runs every conformance test against each transport: httpx on asyncio, uvloop and trio,
aiohttp on asyncio and uvloop (aiohttp has no trio support). uvloop is uvicorn's default event
loop, so most FastAPI services run the SDK on it; it is not asyncio's own loop class."""

from __future__ import annotations

from typing import Any

import pytest

from ayolinx_async.transport import HttpxTransport, Timeout, Transport
from ayolinx_async.transport.aiohttp import AiohttpTransport

from .clients import TransportFactory

_COMBINATIONS = [
    ("httpx", "asyncio"),
    ("httpx", "uvloop"),
    ("httpx", "trio"),
    ("aiohttp", "asyncio"),
    ("aiohttp", "uvloop"),
]


@pytest.fixture(params=_COMBINATIONS, ids=[f"{kind}-{backend}" for kind, backend in _COMBINATIONS])
def _combination(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def transport_kind(_combination: tuple[str, str]) -> str:
    """Which transport the test runs against: ``httpx`` or ``aiohttp``."""
    return _combination[0]


@pytest.fixture
def anyio_backend(_combination: tuple[str, str]) -> str | tuple[str, dict[str, Any]]:
    """Overrides the suite-wide backend so aiohttp never runs on trio, and adds uvloop."""
    backend = _combination[1]
    return ("asyncio", {"use_uvloop": True}) if backend == "uvloop" else backend


@pytest.fixture
def make_transport(transport_kind: str) -> TransportFactory:
    """Builds the transport under test with its own HTTP client/session."""

    def factory(timeout: Timeout | None = None) -> Transport:
        if transport_kind == "httpx":
            return HttpxTransport(timeout=timeout)
        return AiohttpTransport(timeout=timeout)

    return factory

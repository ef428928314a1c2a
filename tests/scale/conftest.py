"""Fixtures for the scale tests: real redis-server processes on loopback ports.

``redis.asyncio`` runs on asyncio only, so every async test here does too.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.scale._servers import RedisServer, redis_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; tests keep apart by key prefix."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (for tests that stop or restart it)."""
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"test-{secrets.token_hex(4)}:"


@pytest.fixture
async def redis_client(shared_redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(shared_redis.url, socket_timeout=2, socket_connect_timeout=2)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def key_file(tmp_path: Path, merchant_private_pem: bytes) -> Path:
    """The merchant's private key as a 0600 file, for worker processes."""
    path = tmp_path / "merchant.pem"
    path.write_bytes(merchant_private_pem)
    path.chmod(0o600)
    return path

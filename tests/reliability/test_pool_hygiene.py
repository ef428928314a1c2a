"""1,000 failing calls over real sockets leave no connection behind in the httpx pool.

Every failure a network can produce (503, HTML 502 and close, close without answer, truncated
body, garbage, a hang that ends in a timeout, connection refused) goes through the default
``HttpxTransport``. Afterwards no pooled connection is stuck in use, the server holds no socket
the pool does not know about, and closing the client closes every socket.
"""

from __future__ import annotations

import collections

import anyio
import httpx
import pytest

from ayolinx_async import (
    AyolinxClient,
    ConnectError,
    ConnectionDroppedError,
    Credentials,
    HttpxTransport,
    ReadTimeoutError,
    ResponseDecodeError,
    ServerError,
    Timeout,
)
from ayolinx_async.transport import ConnectionPool
from tests.reliability._tcp_faults import faulty_server, refused_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CALLS = 1_000
HANG_TIMEOUT = 0.2
EXPECTED: dict[str, type[Exception]] = {
    "503": ServerError,
    "html": ResponseDecodeError,
    "drop": ConnectionDroppedError,
    "partial": ConnectionDroppedError,
    "garbage": ConnectionDroppedError,
    "hang": ReadTimeoutError,
    "refused": ConnectError,
}


def _pool(transport: HttpxTransport) -> ConnectionPool:
    pool = transport.connection_pool
    assert pool is not None  # the default transport sends through its own pool
    return pool


async def test_a_thousand_failing_calls_leak_no_connection(credentials: Credentials) -> None:
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
    timeout = Timeout(connect=5.0, total=30.0)
    transport = HttpxTransport(timeout=timeout, limits=limits)
    kinds = list(EXPECTED)
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    async with faulty_server() as server:
        live = AyolinxClient(
            credentials,
            base_url=f"http://127.0.0.1:{server.port}",
            transport=transport,
            timeout=timeout,
            max_retries=0,
        )
        dead = AyolinxClient(
            credentials,
            base_url=f"http://127.0.0.1:{refused_port()}",
            transport=transport,
            timeout=timeout,
            max_retries=0,
        )
        await live.get_access_token()

        limiter = anyio.CapacityLimiter(20)

        async def one(index: int) -> None:
            kind = kinds[index % len(kinds)]
            client = dead if kind == "refused" else live
            async with limiter:
                # Only the hang needs a short deadline; the rest must not time out under load.
                # A generous connect timeout: a loaded CI box must not turn a hang into a
                # connect timeout.
                deadline = Timeout(connect=5.0, total=HANG_TIMEOUT) if kind == "hang" else 30.0
                try:
                    await client.request(
                        f"/v1.0/fail/{kind}", {}, idempotent=True, timeout=deadline
                    )
                except Exception as exc:
                    seen[(kind, type(exc).__name__)] += 1

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for index in range(CALLS):
                    tg.start_soon(one, index)

        assert sum(seen.values()) == CALLS  # every call failed
        for (kind, name), _count in seen.items():
            assert name == EXPECTED[kind].__name__, (kind, name)
        pool = _pool(transport)
        assert pool.busy == 0  # nothing is stuck mid-request
        connections = pool.idle_connections()
        assert all(c.is_idle() for c in connections)
        assert limits.max_keepalive_connections is not None
        assert len(connections) == pool.idle <= limits.max_keepalive_connections
        # Every socket the server still holds is an idle keep-alive connection in the pool.
        assert await server.settle(pool.idle) == pool.idle
        assert server.accepted > 100  # the failures really cost connections
        await transport.aclose()
        assert pool.idle_connections() == []
        assert await server.settle(0) == 0
        print(f"\n{CALLS} failing calls, {server.accepted} connections opened, all closed: {seen}")

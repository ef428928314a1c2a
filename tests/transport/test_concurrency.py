"""Many coroutines share one client: 10,000 concurrent calls complete on every transport over
real 127.0.0.1 sockets, cold (one token fetch for all) and warm (issue 15).

Before the httpx transport gated in-flight requests at its pool size, httpcore re-scanned its
whole queue on every released connection and 10,000 warm calls never finished.
"""

from __future__ import annotations

import logging

import anyio
import httpx
import pytest

from ayolinx_async import AyolinxClient, Credentials
from ayolinx_async._errors import PoolTimeoutError, ReadTimeoutError
from ayolinx_async.transport import HttpRequest, HttpxTransport, Timeout

from ._countingserver import counting_server, refresh
from ._rawserver import Connection, Received, raw_server
from .clients import TransportFactory

pytestmark = pytest.mark.anyio

CALLS = 10_000
PATH = "/v1.0/qr/qr-mpm-query"
# Generous: the goal is that every call completes, not how fast (the machine is shared).
_SLOW_MACHINE = Timeout(connect=60.0, total=60.0)
_BURST_LIMIT = 45


async def _burst(client: AyolinxClient, calls: int) -> int:
    """Run ``calls`` concurrent signed calls; returns how many succeeded."""
    done = 0

    async def one(index: int) -> None:
        nonlocal done
        body = {"originalPartnerReferenceNo": f"ORDER-{index:06d}"}
        await client.request(PATH, body, idempotent=True)  # raises unless it succeeded
        done += 1

    async with anyio.create_task_group() as tg:
        for index in range(calls):
            tg.start_soon(one, index)
    return done


async def test_ten_thousand_concurrent_calls_complete_cold_and_warm(
    make_transport: TransportFactory,
    transport_kind: str,
    credentials: Credentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 40,000 captured per-call log records would cost more than the calls themselves.
    caplog.set_level(logging.WARNING, logger="ayolinx_async")
    with counting_server() as (url, counts):
        transport = make_transport(timeout=_SLOW_MACHINE)
        async with AyolinxClient(
            credentials, base_url=url, transport=transport, timeout=_SLOW_MACHINE, max_retries=0
        ) as client:
            # Bounded, with room for a loaded 2-core CI machine (~5-20 s per burst here).
            with anyio.fail_after(_BURST_LIMIT):
                cold = await _burst(client, CALLS)
            assert cold == CALLS
            refresh(url, counts)
            assert counts.token_requests == 1
            assert counts.service_requests == CALLS
            with anyio.fail_after(_BURST_LIMIT):
                warm = await _burst(client, CALLS)
            assert warm == CALLS
            refresh(url, counts)
            assert counts.token_requests == 1
            assert counts.service_requests == 2 * CALLS
        await transport.aclose()  # a transport passed in is the caller's to close
        # The pool limit holds at the server too (+1: the connection that reads the counts).
        limit = 20 if transport_kind == "httpx" else 100
        assert counts.max_open_connections <= limit + 1


async def test_waiting_for_a_pool_slot_is_a_pool_timeout(transport_kind: str) -> None:
    """A request still queued for a slot when its deadline passes never left: safe to resend."""
    if transport_kind != "httpx":
        pytest.skip("the gate belongs to the httpx transport")
    arrived = anyio.Event()

    async def hang(conn: Connection, request: Received) -> bool:
        arrived.set()
        await anyio.sleep_forever()
        return False

    transport = HttpxTransport(limits=httpx.Limits(max_connections=1))
    async with raw_server(hang) as server:
        url = server.url + PATH

        async def first() -> None:
            with pytest.raises(ReadTimeoutError):
                await transport.send(
                    HttpRequest(
                        method="POST",
                        url=url,
                        headers={},
                        content=b"{}",
                        timeout=Timeout(connect=1.0, total=1.0),
                    )
                )

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await arrived.wait()
            with pytest.raises(PoolTimeoutError):
                await transport.send(
                    HttpRequest(
                        method="POST",
                        url=url,
                        headers={},
                        content=b"{}",
                        timeout=Timeout(connect=0.1, total=0.1),
                    )
                )
    await transport.aclose()
    assert len(server.requests) == 1


async def test_a_callers_client_is_gated_at_its_own_pool_size(transport_kind: str) -> None:
    """The gate follows a passed client's pool limit, so its queue stays short too."""
    if transport_kind != "httpx":
        pytest.skip("the gate belongs to the httpx transport")
    in_flight = 0
    most = 0

    async def slow(conn: Connection, request: Received) -> bool:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await anyio.sleep(0.01)
        in_flight -= 1
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        return True

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=3)) as http:
        transport = HttpxTransport(http)
        assert transport.max_in_flight == 3
        async with raw_server(slow) as server:
            request = HttpRequest(method="POST", url=server.url + PATH, headers={}, content=b"{}")
            async with anyio.create_task_group() as tg:
                for _ in range(30):
                    tg.start_soon(transport.send, request)
        await transport.aclose()
    assert most <= 3
    assert len(server.requests) == 30

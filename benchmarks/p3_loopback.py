"""P3: loopback throughput against the simulator served by uvicorn on 127.0.0.1.

Requests/s of signed ``qris.query`` calls at concurrency 1, 16 and 64 for the SDK on its default
httpx transport, the SDK on the aiohttp transport, and the hand-written bare httpx and bare
aiohttp floors. The server runs in its own process (one uvicorn worker), the clients in this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient
from ayolinx_async.transport.aiohttp import AiohttpTransport

from ._fixtures import REFERENCE, BareAiohttp, BareHttpx, credentials, new_key, sdk_query
from ._report import Check, Report, median, paired_ratio

CONCURRENCY = (1, 16, 64)
DURATION = 0.4
ROUNDS = 7
SDK_GOAL = 0.95
AIOHTTP_GOAL = 1.3


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


@dataclass
class _Cell:
    rate: float  # completed requests per second
    client_cpu: float  # this process's CPU seconds per request
    server_cpu: float  # the uvicorn process's CPU seconds per request


@contextlib.contextmanager
def _server(key: rsa.RSAPrivateKey) -> Iterator[tuple[str, int]]:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._sim_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(pem)
        child.stdin.close()
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}", child.pid
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def _wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.post(url + "/v1.0/ping", content=b"{}")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the simulator did not come up")


async def _drive(
    op: Callable[[], Awaitable[object]], concurrency: int, duration: float, server_pid: int
) -> _Cell:
    """Throughput and CPU per request with ``concurrency`` workers looping for ``duration``."""
    done = 0
    deadline = time.perf_counter() + duration
    client_cpu, server_cpu = time.process_time(), _cpu_of(server_pid)

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await op()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return _Cell(
        rate=done / elapsed,
        client_cpu=(time.process_time() - client_cpu) / done,
        server_cpu=(_cpu_of(server_pid) - server_cpu) / done,
    )


async def _measure(
    url: str, server_pid: int, key: rsa.RSAPrivateKey, rounds: int, duration: float
) -> list[Report]:
    sdk_httpx = AyolinxClient(credentials(key), base_url=url)
    aiohttp_transport = AiohttpTransport()
    sdk_aiohttp = AyolinxClient(credentials(key), base_url=url, transport=aiohttp_transport)
    bare_httpx = BareHttpx(url, key, httpx.AsyncClient())
    bare_aiohttp = BareAiohttp(url, key, aiohttp.ClientSession())
    await sdk_httpx.qris.generate(partner_reference_no=REFERENCE, amount="10000.00")
    await bare_httpx.fetch_token()
    await bare_aiohttp.fetch_token()
    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "bare httpx": bare_httpx.query,
        "SDK (httpx transport)": lambda: sdk_query(sdk_httpx),
        "bare aiohttp": bare_aiohttp.query,
        "SDK (aiohttp transport)": lambda: sdk_query(sdk_aiohttp),
    }
    cells: dict[tuple[str, int], list[_Cell]] = {}
    for concurrency in CONCURRENCY:
        for op in variants.values():
            await _drive(op, concurrency, 0.2, server_pid)  # open this level's connections
        for index in range(rounds):
            names = list(variants) if index % 2 == 0 else list(variants)[::-1]
            for name in names:
                cell = await _drive(variants[name], concurrency, duration, server_pid)
                cells.setdefault((name, concurrency), []).append(cell)
    closers = (sdk_httpx.aclose, aiohttp_transport.aclose, bare_httpx.aclose, bare_aiohttp.aclose)
    for closer in closers:
        await closer()

    def rate(name: str, concurrency: int) -> float:
        return median([cell.rate for cell in cells[(name, concurrency)]])

    report = Report(
        title="P3 loopback throughput",
        setup=(
            "Signed qris.query against the simulator (uvicorn, 1 worker, h11, own process) on"
            f" 127.0.0.1; {rounds} interleaved rounds x {duration}s per cell, median requests/s;"
            " ratios = median over rounds of the two rates in the same round; every client with"
            " its library's default pool settings."
        ),
        columns=["concurrency", *variants, "SDK/bare httpx", "aiohttp/httpx (SDK)"],
    )

    def ratio(name: str, base: str, concurrency: int) -> float:
        return paired_ratio(
            [cell.rate for cell in cells[(name, concurrency)]],
            [cell.rate for cell in cells[(base, concurrency)]],
        )

    for concurrency in CONCURRENCY:
        sdk_ratio = ratio("SDK (httpx transport)", "bare httpx", concurrency)
        aio_ratio = ratio("SDK (aiohttp transport)", "SDK (httpx transport)", concurrency)
        report.rows.append(
            [concurrency, *(rate(name, concurrency) for name in variants), sdk_ratio, aio_ratio]
        )
        report.checks.append(Check(f"P3 SDK/bare httpx @ {concurrency}", sdk_ratio, ">=", SDK_GOAL))
        report.checks.append(
            Check(f"P3 aiohttp/httpx transport @ {concurrency}", aio_ratio, ">=", AIOHTTP_GOAL)
        )
    cpu = Report(
        title="P3 CPU per request (what limits P3)",
        setup=(
            "Median CPU microseconds per completed request in the client process (this one) and"
            " in the uvicorn process, same cells as above. Client + server CPU per request vs"
            " 2 cores shows which side saturates."
        ),
        columns=["concurrency", *(f"{name} client/server" for name in variants)],
    )
    for concurrency in CONCURRENCY:
        row: list[object] = [concurrency]
        for name in variants:
            client_us = median([cell.client_cpu for cell in cells[(name, concurrency)]]) * 1e6
            server_us = median([cell.server_cpu for cell in cells[(name, concurrency)]]) * 1e6
            row.append(f"{client_us:.0f} / {server_us:.0f}")
        cpu.rows.append(row)
    return [report, cpu]


async def _run(rounds: int, duration: float) -> list[Report]:
    key = new_key()
    with _server(key) as (url, pid):
        await _wait_ready(url)
        return await _measure(url, pid, key, rounds, duration)


def run(quick: bool = False) -> list[Report]:
    rounds, duration = (1, 0.4) if quick else (ROUNDS, DURATION)
    return asyncio.run(_run(rounds, duration))

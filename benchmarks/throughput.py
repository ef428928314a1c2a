"""Throughput over loopback against the counting server at concurrency 1/16/64/256.

Every variant runs in every round, order alternating, for a fixed time per cell; a ratio is the
median over rounds of the two rates measured in the same round (min-max beside it). Also: the
16-thread ``requests`` peer at c=16, and the pool size of the default httpx transport.
"""

from __future__ import annotations

import asyncio
import statistics

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient
from ayolinx_async.transport import HttpxTransport

from ._clients import (
    TIMEOUT,
    BareAiohttp,
    BareHttpcorePool,
    BareHttpx,
    Op,
    RawClient,
    close_sdk,
    counting_server,
    credentials,
    drive,
    drive_measured,
    new_key,
    request_op,
    requests_rate,
    sdk_client,
    sdk_default,
    server_counts,
    typed_op,
)
from ._report import Check, Report, ratio_cell, ratios

LEVELS = (1, 16, 64, 256)
FLOOR_GOAL = 0.90
REQUESTS_GOAL = 2.0
THREADS = 16


async def _prerun(key: rsa.RSAPrivateKey) -> list[str]:
    """Send one token and one service call from every variant to a verifying server."""
    notes = []
    with counting_server(verify_with=key.public_key()) as url:
        for kind in ("httpx", "aiohttp"):
            client = sdk_client(key, url, kind)
            await typed_op(client)()
            await request_op(client)()
            await close_sdk(client)
        floors = (BareHttpx, BareHttpcorePool, BareAiohttp, RawClient)
        for floor in (make(key, url) for make in floors):
            await floor.fetch_token()
            await floor.query()
            await floor.aclose()
        counts = server_counts(url)
    if counts["bad"]:
        raise RuntimeError(f"the verifying server refused {counts['bad']} signatures")
    notes.append(
        f"Signatures checked by a verifying server before timing: {counts['token']} token and"
        f" {counts['service']} service requests from every variant, 0 refused."
    )
    return notes


async def _run(rounds: int, duration: float) -> list[Report]:
    key = new_key()
    notes = await _prerun(key)
    with counting_server() as url:
        sdk_httpx = sdk_client(key, url, "httpx")
        sdk_aiohttp = sdk_client(key, url, "aiohttp")
        default = sdk_default(key, url)
        bare_httpx = BareHttpx(key, url)
        bare_httpcore = BareHttpcorePool(key, url)
        bare_aiohttp = BareAiohttp(key, url)
        raw = RawClient(key, url)
        for floor in (bare_httpx, bare_httpcore, bare_aiohttp, raw):
            await floor.fetch_token()
        variants: dict[str, Op] = {
            "raw asyncio": raw.query,
            "bare httpx pool": bare_httpx.query,
            "bare httpcore pool": bare_httpcore.query,
            "SDK httpx typed": typed_op(sdk_httpx),
            "SDK httpx request": request_op(sdk_httpx),
            "bare aiohttp": bare_aiohttp.query,
            "SDK aiohttp typed": typed_op(sdk_aiohttp),
            "SDK aiohttp request": request_op(sdk_aiohttp),
        }
        samples: dict[tuple[str, int], list[float]] = {}
        cpu: dict[tuple[str, int], list[float]] = {}
        for level in LEVELS:
            for op in variants.values():
                await drive(op, level, min(duration, 0.2))  # open this level's connections
            for index in range(rounds):
                names = list(variants) if index % 2 == 0 else list(variants)[::-1]
                for name in names:
                    rate, per_call = await drive_measured(variants[name], level, duration)
                    samples.setdefault((name, level), []).append(rate)
                    cpu.setdefault((name, level), []).append(per_call)
        peer = await _requests_peer(key, url, default, rounds, duration)
        pools = await _pool_sizes(key, url, rounds, duration)
        for client in (sdk_httpx, sdk_aiohttp, default):
            await close_sdk(client)
        for floor in (bare_httpx, bare_httpcore, bare_aiohttp, raw):
            await floor.aclose()
    return [_table(samples, rounds, duration, notes), _cpu_table(cpu), peer, pools]


def _table(
    samples: dict[tuple[str, int], list[float]], rounds: int, duration: float, notes: list[str]
) -> Report:
    pairs = [
        ("SDK httpx typed", "bare httpcore pool"),
        ("SDK httpx request", "bare httpcore pool"),
        ("SDK httpx typed", "bare httpx pool"),
        ("SDK aiohttp typed", "bare aiohttp"),
        ("SDK aiohttp request", "bare aiohttp"),
        ("bare httpcore pool", "raw asyncio"),
        ("bare httpx pool", "raw asyncio"),
        ("bare aiohttp", "raw asyncio"),
        ("SDK aiohttp typed", "SDK httpx typed"),
    ]
    report = Report(
        title="Throughput: SDK vs same-layer floors (loopback, counting server)",
        setup=(
            "Signed qris.query (typed) and client.request over 127.0.0.1 to a raw-asyncio"
            " counting server pinned to core 0, clients pinned to core 1; pool limit 100 for"
            f" every variant; {rounds} interleaved rounds x {duration}s per cell. Cells: median"
            " per-round ratio [min-max]; last column: median calls/s of the raw floor."
        ),
        columns=["c", *(f"{a} / {b}" for a, b in pairs), "raw calls/s"],
        notes=notes,
    )
    for level in LEVELS:
        row: list[object] = [level]
        for a, b in pairs:
            values = ratios(samples[(a, level)], samples[(b, level)])
            row.append(ratio_cell(values))
            if b in ("bare httpcore pool", "bare aiohttp") and a.endswith("typed"):
                report.checks.append(
                    Check(f"{a} / {b} @ c={level}", statistics.median(values), ">=", FLOOR_GOAL)
                )
        row.append(statistics.median(samples[("raw asyncio", level)]))
        report.rows.append(row)
    return report


def _cpu_table(cpu: dict[tuple[str, int], list[float]]) -> Report:
    """The same rounds read as client CPU per call (information, no goal): steadier than
    calls/s on a shared machine, since neither the server nor a neighbour's load is in it."""
    pairs = [
        ("SDK httpx typed", "bare httpcore pool"),
        ("SDK httpx request", "bare httpcore pool"),
        ("SDK aiohttp typed", "bare aiohttp"),
        ("SDK aiohttp request", "bare aiohttp"),
    ]
    report = Report(
        title="Throughput rounds read as client CPU per call",
        setup=(
            "The rounds above, each variant's client thread CPU time per call (the client"
            " process has core 1 to itself). Cells: median per-round ratio floor CPU / SDK CPU"
            " [min-max] (1 = as cheap as the floor; same sense as the calls/s ratios); last"
            " columns: median microseconds per call."
        ),
        columns=[
            "c",
            *(f"{b} / {a} CPU" for a, b in pairs),
            "bare aiohttp us",
            "SDK aiohttp typed us",
            "bare httpcore us",
            "SDK httpx typed us",
        ],
    )
    for level in LEVELS:
        row: list[object] = [level]
        for a, b in pairs:
            row.append(ratio_cell(ratios(cpu[(b, level)], cpu[(a, level)])))
        for name in ("bare aiohttp", "SDK aiohttp typed", "bare httpcore pool", "SDK httpx typed"):
            row.append(statistics.median(cpu[(name, level)]))
        report.rows.append(row)
    return report


async def _requests_peer(
    key: rsa.RSAPrivateKey, url: str, default: AyolinxClient, rounds: int, duration: float
) -> Report:
    """SDK (default transport, default limits) at c=16 vs 16 threads of ``requests``; and the
    SDK with ``transport="auto"`` (aiohttp here) beside it."""
    auto = AyolinxClient(credentials(key), base_url=url, timeout=TIMEOUT, transport="auto")
    ops = {"sdk": typed_op(default), "auto": typed_op(auto)}
    for op in ops.values():
        await drive(op, THREADS, 0.2)
    samples: dict[str, list[float]] = {"sdk": [], "auto": [], "peer": []}
    loop = asyncio.get_running_loop()
    for index in range(rounds):
        names = list(samples) if index % 2 == 0 else list(samples)[::-1]
        for name in names:
            if name == "peer":
                rate = await loop.run_in_executor(None, requests_rate, key, url, THREADS, duration)
            else:
                rate = await drive(ops[name], THREADS, duration)
            samples[name].append(rate)
    await close_sdk(auto)
    peer = samples["peer"]
    values = ratios(samples["sdk"], peer)
    auto_values = ratios(samples["auto"], peer)
    report = Report(
        title="SDK at c=16 vs a 16-thread requests client",
        setup=(
            "The SDK with no transport chosen (default httpx transport, default limits), 16"
            ' coroutines, typed qris.query, and the same with transport="auto" (aiohttp on'
            " asyncio); the peer: requests.Session per thread, 16 threads, same inline signing."
            f" {rounds} interleaved rounds x {duration}s."
        ),
        columns=["variant", "median calls/s", "ratio SDK/requests"],
        rows=[
            ["requests, 16 threads", statistics.median(peer), ""],
            ["SDK default transport, c=16", statistics.median(samples["sdk"]), ratio_cell(values)],
            [
                'SDK transport="auto", c=16',
                statistics.median(samples["auto"]),
                ratio_cell(auto_values),
            ],
        ],
    )
    report.checks.append(
        Check("SDK c=16 / requests 16 threads", statistics.median(values), ">=", REQUESTS_GOAL)
    )
    report.checks.append(
        Check(
            'SDK transport="auto" c=16 / requests 16 threads',
            statistics.median(auto_values),
            ">=",
            REQUESTS_GOAL,
        )
    )
    return report


async def _pool_sizes(key: rsa.RSAPrivateKey, url: str, rounds: int, duration: float) -> Report:
    """The default transport's pool size by measurement: gated pools of 10/20/50/100."""
    sizes = (10, 20, 50, 100)
    clients = {
        size: AyolinxClient(
            credentials(key),
            base_url=url,
            timeout=TIMEOUT,
            transport=HttpxTransport(
                timeout=TIMEOUT,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            ),
        )
        for size in sizes
    }
    report = Report(
        title="Default httpx transport: pool size (gate = max_connections = keep-alive)",
        setup=(
            f"SDK typed qris.query, {rounds} interleaved rounds x {duration}s; median calls/s,"
            " and the ratio to the 100-connection pool in the same round."
        ),
        columns=["c", *(f"pool {size}" for size in sizes), *(f"{s}/100" for s in sizes[:-1])],
    )
    for level in (16, 64, 256):
        samples: dict[int, list[float]] = {size: [] for size in sizes}
        for size in sizes:
            await drive(typed_op(clients[size]), level, 0.2)
        for index in range(rounds):
            order = sizes if index % 2 == 0 else sizes[::-1]
            for size in order:
                samples[size].append(await drive(typed_op(clients[size]), level, duration))
        report.rows.append(
            [
                level,
                *(statistics.median(samples[size]) for size in sizes),
                *(ratio_cell(ratios(samples[size], samples[100])) for size in sizes[:-1]),
            ]
        )
    for client in clients.values():
        await close_sdk(client)
    return report


def run(quick: bool = False) -> list[Report]:
    rounds, duration = (2, 0.25) if quick else (5, 0.5)
    return asyncio.run(_run(rounds, duration))

"""Memory: resident set size over 100,000 sequential signed calls (no growth after warm-up).

Each variant runs in a fresh interpreter so that its peak RSS is its own; the bare-httpx
baseline runs the same loop for scale.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import httpx

from ._fixtures import BASE_URL, BareHttpx, CannedAyolinx, mock_sdk_client, new_key, sdk_query
from ._report import Check, Report

CALLS = 100_000
WARM_UP = 10_000
GROWTH_GOAL_MIB = 2.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


def _peak_mib() -> float:
    """Peak RSS of this process image (``VmHWM``; ``ru_maxrss`` would include the parent's,
    since it survives ``exec``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _loop(variant: str, calls: int) -> dict[str, float]:
    key = new_key()
    mock = CannedAyolinx().transport()
    if variant == "sdk":
        client = mock_sdk_client(key, mock)
        await client.get_access_token()

        async def call() -> object:
            return await sdk_query(client)

        close = client.aclose
    else:
        bare = BareHttpx(BASE_URL, key, httpx.AsyncClient(transport=mock))
        await bare.fetch_token()
        call, close = bare.query, bare.aclose
    samples: dict[str, float] = {"start": _rss_mib()}
    marks = {min(WARM_UP, calls // 10), calls // 2, calls}
    for index in range(1, calls + 1):
        await call()
        if index in marks:
            samples[str(index)] = _rss_mib()
    await close()
    samples["peak"] = _peak_mib()
    return samples


def _child(variant: str, calls: int) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.memory", variant, str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def run(quick: bool = False) -> list[Report]:
    calls = 20_000 if quick else CALLS
    warm = str(min(WARM_UP, calls // 10))
    results = {variant: _child(variant, calls) for variant in ("sdk", "bare")}
    report = Report(
        title="Memory",
        setup=(
            f"{calls:,} sequential qris.query calls over httpx.MockTransport, each variant in a"
            f" fresh interpreter; RSS in MiB after {int(warm):,} calls (warm-up), half-way and"
            " at the end; peak = VmHWM."
        ),
        columns=["variant", "after warm-up", "half-way", "end", "growth after warm-up", "peak"],
    )
    for variant, label in (("sdk", "SDK"), ("bare", "bare httpx")):
        samples = results[variant]
        growth = samples[str(calls)] - samples[warm]
        report.rows.append(
            [
                label,
                samples[warm],
                samples[str(calls // 2)],
                samples[str(calls)],
                growth,
                samples["peak"],
            ]
        )
    sdk = results["sdk"]
    growth = sdk[str(calls)] - sdk[warm]
    report.checks.append(Check("Memory growth after warm-up, MiB", growth, "<=", GROWTH_GOAL_MIB))
    return [report]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_loop(sys.argv[1], int(sys.argv[2])))))

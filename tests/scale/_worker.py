"""One merchant worker process for the multi-process tests.

Run as ``python -m tests.scale._worker '<json config>'``. It builds an AyolinxClient sharing
its token through Redis, prints ``ready``, waits for ``go`` on stdin (so every worker starts
cold at the same moment), fires ``calls`` concurrent QRIS generate calls (or, given
``duration``, keeps ``calls`` coroutines calling until it ends) and prints one JSON result.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import anyio
import redis.asyncio as aioredis

from ayolinx_async import AyolinxClient, Credentials, RefreshPolicy
from ayolinx_async.contrib.redis import RedisTokenStore


async def _main(config: dict[str, Any]) -> dict[str, Any]:
    redis = aioredis.Redis.from_url(config["redis_url"], socket_connect_timeout=1, socket_timeout=1)
    credentials = Credentials(
        client_key=config["client_key"],
        client_secret=config["client_secret"],
        private_key=config["private_key_file"],
    )
    store = RedisTokenStore(redis, prefix=config["prefix"], timeout=config.get("store_timeout", 1))
    client = AyolinxClient(
        credentials,
        base_url=config["base_url"],
        token_store=store,
        refresh_policy=RefreshPolicy(ratio=config.get("refresh_ratio", 0.1)),
        timeout=30,
    )
    await redis.ping()
    print("ready", flush=True)
    await anyio.to_thread.run_sync(sys.stdin.readline)
    started = time.monotonic()
    deadline = started + config.get("duration", 0)
    done: list[float] = []
    failures: list[str] = []
    counter = iter(range(1_000_000))

    async def call_once() -> None:
        try:
            reference = f"W{config['worker']}-{next(counter)}"
            await client.qris.generate(partner_reference_no=reference, amount="10000")
            done.append(round(time.monotonic() - started, 3))
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")

    async def keep_calling() -> None:
        while time.monotonic() < deadline:
            await call_once()

    async with client, anyio.create_task_group() as tg:
        for _ in range(config["calls"]):
            tg.start_soon(keep_calling if "duration" in config else call_once)
    await redis.aclose()
    return {
        "ok": len(done),
        "done_at": done,
        "failures": failures,
        "token_fetches": client.token_cache.fetch_count,
    }


if __name__ == "__main__":
    result = anyio.run(_main, json.loads(sys.argv[1]))
    print(json.dumps(result), flush=True)

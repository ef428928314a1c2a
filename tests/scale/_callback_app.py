"""One merchant callback app process for the multi-process callback tests.

Run as ``python -m tests.scale._callback_app '<json config>'``: serves a CallbackHandler (dedupe
and issued tokens in Redis) with uvicorn on a free loopback port, prints that port, and runs
until SIGTERM. Its listener logs every run to the Redis list ``<prefix>runs`` as
``<instance>:<attempt|ok|fail>:<dedupe key>``, so the test sees runs across processes; it waits
while ``<prefix>hold`` exists and fails while ``<prefix>fail:<instance>`` exists.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from typing import Any

import redis.asyncio as aioredis
import uvicorn

from ayolinx_async.callbacks import CallbackEvent, CallbackHandler
from ayolinx_async.contrib.redis import RedisDedupeStore, RedisIssuedTokenStore
from ayolinx_async.integrations.asgi import CallbackASGIApp


def build_app(config: dict[str, Any]) -> CallbackASGIApp:
    redis = aioredis.Redis.from_url(config["redis_url"], socket_connect_timeout=1, socket_timeout=1)
    prefix, instance = config["prefix"], config["instance"]
    runs = f"{prefix}runs"

    async def listener(event: CallbackEvent) -> None:
        await redis.rpush(runs, f"{instance}:attempt:{event.dedupe_key}")
        for _ in range(1000):  # the gate is in another process: poll it, 10 s at most
            if not await redis.exists(f"{prefix}hold"):
                break
            await asyncio.sleep(0.01)
        if await redis.exists(f"{prefix}fail:{instance}"):
            await redis.rpush(runs, f"{instance}:fail:{event.dedupe_key}")
            raise RuntimeError("merchant database is down")
        await redis.rpush(runs, f"{instance}:ok:{event.dedupe_key}")

    with open(config["ayolinx_public_key_file"], "rb") as fh:
        public_key = fh.read()
    handler = CallbackHandler(
        client_key=config["client_key"],
        client_secret=config["client_secret"],
        ayolinx_public_keys=public_key,
        on_event=listener,
        dedupe_store=RedisDedupeStore(redis, prefix=prefix),
        token_store=RedisIssuedTokenStore(redis, prefix=prefix),
    )
    return CallbackASGIApp(handler)


def main() -> None:
    config = json.loads(sys.argv[1])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(build_app(config), log_level="warning"))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()

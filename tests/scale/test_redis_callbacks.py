"""The callback side on Redis: dedupe and issued tokens shared by app instances in separate
processes, and a Redis outage answered non-2xx (never a silent acknowledgement)."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._wire import format_timestamp
from ayolinx_async.callbacks import (
    DEDUPE_DONE,
    CallbackEvent,
    CallbackHandler,
    DedupeStore,
    IssuedTokenStore,
    namespace_for,
)
from ayolinx_async.contrib.redis import (
    RedisDedupeStore,
    RedisIssuedTokenStore,
    RedisStoreError,
)
from tests.callbacks._helpers import (
    NOTIFY_PATH,
    TOKEN_PATH,
    VA_PATH,
    notify_headers,
    qris_body,
    token_body,
    token_headers,
    va_payment_body,
    va_payment_headers,
)
from tests.conftest import CLIENT_KEY, CLIENT_SECRET
from tests.scale._processes import ROOT
from tests.scale._servers import LOOPBACK, RedisServer, free_port

pytestmark = pytest.mark.anyio


def _now() -> str:
    return format_timestamp(time.time())


# -- the stores on their own ----------------------------------------------------------------


async def test_dedupe_store_claim_complete_release(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisDedupeStore(redis_client, prefix=prefix)
    other = RedisDedupeStore(redis_client, prefix=prefix)  # another replica
    assert isinstance(store, DedupeStore)
    assert await store.claim("ref:00", "me", 30)
    assert not await other.claim("ref:00", "you", 30)
    assert await other.get("ref:00") == "me"
    assert 29_000 < await redis_client.pttl(f"{prefix}dedupe:ref:00") <= 30_000
    await other.release("ref:00", "you")  # not the owner: no effect
    assert await store.get("ref:00") == "me"
    await store.release("ref:00", "me")
    assert await store.get("ref:00") is None
    assert await other.claim("ref:00", "you", 30)
    await other.complete("ref:00", 3600)
    assert await store.get("ref:00") == DEDUPE_DONE
    assert 3_599_000 < await redis_client.pttl(f"{prefix}dedupe:ref:00") <= 3_600_000
    await other.release("ref:00", "you")  # a done key is never released
    assert await store.get("ref:00") == DEDUPE_DONE
    assert not await store.claim("ref:00", "third", 30)


async def test_dedupe_lease_of_a_crashed_worker_lapses(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisDedupeStore(redis_client, prefix=prefix)
    assert await store.claim("k", "crashed-worker", 0.1)
    assert not await store.claim("k", "next", 30)
    await anyio.sleep(0.15)
    assert await store.claim("k", "next", 30)


async def test_dedupe_claim_is_atomic_across_clients(
    shared_redis: RedisServer, prefix: str
) -> None:
    clients = [aioredis.Redis.from_url(shared_redis.url) for _ in range(4)]
    stores = [RedisDedupeStore(c, prefix=prefix) for c in clients]
    won: list[str] = []

    async def claim(store: RedisDedupeStore, owner: str) -> None:
        if await store.claim("race", owner, 30):
            won.append(owner)

    try:
        async with anyio.create_task_group() as tg:
            for n in range(200):
                tg.start_soon(claim, stores[n % 4], f"owner-{n}")
        assert len(won) == 1
        assert await stores[0].get("race") == won[0]
    finally:
        for client in clients:
            await client.aclose()


async def test_issued_token_store(redis_client: aioredis.Redis, prefix: str) -> None:
    store = RedisIssuedTokenStore(redis_client, prefix=prefix)
    assert isinstance(store, IssuedTokenStore)
    await store.set("digest", "1700000000.0", 0.1)
    assert await RedisIssuedTokenStore(redis_client, prefix=prefix).get("digest") == "1700000000.0"
    await anyio.sleep(0.15)
    assert await store.get("digest") is None
    await store.set("digest", "v", 60)
    await store.delete("digest")
    assert await store.get("digest") is None
    with pytest.raises(ValueError, match="ttl"):
        await store.set("digest", "v", 0)


async def test_callback_stores_raise_on_outage() -> None:
    nothing_there = aioredis.Redis(host=LOOPBACK, port=free_port(), socket_connect_timeout=0.2)
    try:
        dedupe = RedisDedupeStore(nothing_there, timeout=0.1)
        issued = RedisIssuedTokenStore(nothing_there, timeout=0.1)
        for call in (
            dedupe.claim("k", "o", 30),
            dedupe.get("k"),
            dedupe.complete("k", 30),
            dedupe.release("k", "o"),
            issued.set("k", "v", 30),
            issued.get("k"),
            issued.delete("k"),
        ):
            with pytest.raises(RedisStoreError):
                await call
    finally:
        await nothing_there.aclose()


# -- a handler whose Redis goes away ----------------------------------------------------------


async def test_redis_down_answers_500_then_redelivery_is_processed(
    own_redis: RedisServer, ayolinx_key: rsa.RSAPrivateKey, prefix: str
) -> None:
    client = aioredis.Redis.from_url(own_redis.url, socket_connect_timeout=0.3)
    seen: list[str] = []

    async def listener(event: CallbackEvent) -> None:
        seen.append(event.dedupe_key)

    handler = CallbackHandler(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_keys=ayolinx_key.public_key(),
        on_event=listener,
        dedupe_store=RedisDedupeStore(client, prefix=prefix, timeout=0.3),
        token_store=RedisIssuedTokenStore(client, prefix=prefix, timeout=0.3),
    )
    body = qris_body(ref=secrets.token_hex(8))
    try:
        own_redis.stop(kill=True)

        def notify() -> dict[str, str]:
            return notify_headers(ayolinx_key, body, _now())

        answer = await handler.handle("POST", NOTIFY_PATH, notify(), body)
        assert answer.status == 500  # not acknowledged: Ayolinx will redeliver
        assert answer.json()["responseCode"] == "5005601"
        assert seen == []  # never processed without a dedupe decision
        token_answer = await handler.handle(
            "POST", TOKEN_PATH, token_headers(ayolinx_key, _now()), token_body()
        )
        assert token_answer.status == 500  # an unstorable token is not handed out
        own_redis.start()
        answer = await handler.handle("POST", NOTIFY_PATH, notify(), body)
        assert answer.status == 200
        assert answer.json()["responseCode"] == "2005600"
        assert len(seen) == 1
        again = await handler.handle("POST", NOTIFY_PATH, notify(), body)
        assert again.status == 200
        assert len(seen) == 1
    finally:
        await client.aclose()


# -- two app instances in two processes ---------------------------------------------------------


def _wait_listening(port: int, process: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("callback app did not start") from None
            time.sleep(0.02)


@pytest.fixture(scope="module")
def apps(
    shared_redis: RedisServer,
    ayolinx_key: rsa.RSAPrivateKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Two callback app processes, A and B, sharing one Redis under one prefix."""
    pem = tmp_path_factory.mktemp("keys") / "ayolinx_public.pem"
    pem.write_bytes(
        ayolinx_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    prefix = f"apps-{secrets.token_hex(4)}:"
    processes: dict[str, subprocess.Popen[str]] = {}
    urls: dict[str, str] = {}
    try:
        for instance in ("A", "B"):
            processes[instance] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.scale._callback_app",
                    _app_config(instance, prefix, shared_redis, pem),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        for instance, process in processes.items():
            assert process.stdout is not None
            port = int(process.stdout.readline())
            _wait_listening(port, process)
            urls[instance] = f"http://{LOOPBACK}:{port}"
        yield {"urls": urls, "prefix": prefix, "redis": shared_redis}
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _app_config(instance: str, prefix: str, redis: RedisServer, pem: Path) -> str:
    return json.dumps(
        {
            "instance": instance,
            "prefix": prefix,
            "redis_url": redis.url,
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "ayolinx_public_key_file": str(pem),
        }
    )


async def _runs(redis: aioredis.Redis, prefix: str, key_suffix: str) -> list[str]:
    """``instance:outcome`` of each listener run logged for dedupe keys ending in key_suffix."""
    found = []
    for entry in await redis.lrange(f"{prefix}runs", 0, -1):
        instance, outcome, key = (entry if isinstance(entry, str) else entry.decode()).split(":", 2)
        if key.endswith(key_suffix):
            found.append(f"{instance}:{outcome}")
    return found


async def test_same_callback_to_two_processes_runs_once(
    apps: dict[str, Any], redis_client: aioredis.Redis, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    prefix, urls = apps["prefix"], apps["urls"]
    ref = secrets.token_hex(8)
    body = qris_body(ref=ref)
    answers: dict[str, httpx.Response] = {}
    async with httpx.AsyncClient(timeout=20) as http:

        async def deliver(instance: str) -> None:
            headers = notify_headers(ayolinx_key, body, _now())
            answers[instance] = await http.post(
                urls[instance] + NOTIFY_PATH, content=body, headers=headers
            )

        await redis_client.set(f"{prefix}hold", "1", ex=30)  # A's listener stays busy ...
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(deliver, "A")
                for _ in range(1000):  # until A's listener is running (another process)
                    if await _runs(redis_client, prefix, f"{ref}:00") == ["A:attempt"]:
                        break
                    await anyio.sleep(0.01)
                await deliver("B")  # ... while B receives the same callback
                assert answers["B"].status_code == 409  # in progress: retry later, no false ack
                await redis_client.delete(f"{prefix}hold")
        finally:
            await redis_client.delete(f"{prefix}hold")
        assert answers["A"].status_code == 200
        for instance in ("B", "A", "B"):  # Ayolinx redelivers to whichever replica
            await deliver(instance)
            assert answers[instance].status_code == 200
            assert answers[instance].json()["responseCode"] == "2005600"
    assert await _runs(redis_client, prefix, f"{ref}:00") == ["A:attempt", "A:ok"]


async def test_simultaneous_delivery_to_two_processes_runs_once(
    apps: dict[str, Any], redis_client: aioredis.Redis, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    prefix, urls = apps["prefix"], apps["urls"]
    statuses: list[int] = []
    refs = [secrets.token_hex(8) for _ in range(10)]
    async with httpx.AsyncClient(timeout=20) as http:

        async def deliver(instance: str, body: bytes) -> None:
            headers = notify_headers(ayolinx_key, body, _now())
            answer = await http.post(urls[instance] + NOTIFY_PATH, content=body, headers=headers)
            statuses.append(answer.status_code)

        async with anyio.create_task_group() as tg:
            for ref in refs:
                body = qris_body(ref=ref)
                tg.start_soon(deliver, "A", body)
                tg.start_soon(deliver, "B", body)
    assert set(statuses) <= {200, 409}
    for ref in refs:
        runs = await _runs(redis_client, prefix, f"{ref}:00")
        assert len(runs) == 2  # one attempt, one success: a single run in one of the processes
        assert runs[0].split(":")[0] == runs[1].split(":")[0]
        assert [r.split(":")[1] for r in runs] == ["attempt", "ok"]


async def test_failure_in_one_process_lets_redelivery_succeed_in_the_other(
    apps: dict[str, Any], redis_client: aioredis.Redis, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    prefix, urls = apps["prefix"], apps["urls"]
    ref = secrets.token_hex(8)
    body = qris_body(ref=ref)
    await redis_client.set(f"{prefix}fail:A", "1")
    try:
        async with httpx.AsyncClient(timeout=10) as http:

            async def deliver(instance: str) -> httpx.Response:
                headers = notify_headers(ayolinx_key, body, _now())
                return await http.post(urls[instance] + NOTIFY_PATH, content=body, headers=headers)

            failed = await deliver("A")
            assert failed.status_code == 500
            assert failed.json()["responseCode"] == "5005601"
            # The claim existed under the merchant's namespace, and is released.
            key = f"{prefix}dedupe:{namespace_for(CLIENT_KEY)}:{ref}:00"
            assert await redis_client.exists(key) == 0  # released
            retried = await deliver("B")
            assert retried.status_code == 200
            assert await redis_client.exists(key) == 1  # the same key now records it as done
            duplicate = await deliver("A")  # A still fails, but must not run again
            assert duplicate.status_code == 200
    finally:
        await redis_client.delete(f"{prefix}fail:A")
    runs = await _runs(redis_client, prefix, f"{ref}:00")
    assert runs == ["A:attempt", "A:fail", "B:attempt", "B:ok"]


async def test_token_issued_by_one_process_accepted_by_the_other(
    apps: dict[str, Any], redis_client: aioredis.Redis, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    prefix, urls = apps["prefix"], apps["urls"]
    payment_id = f"PRQ-{secrets.token_hex(6)}"
    body = va_payment_body(payment_request_id=payment_id)
    async with httpx.AsyncClient(timeout=10) as http:
        issued = await http.post(
            urls["A"] + TOKEN_PATH, content=token_body(), headers=token_headers(ayolinx_key, _now())
        )
        assert issued.status_code == 200
        token = issued.json()["accessToken"]
        # Only a digest is stored: the token itself appears nowhere in Redis.
        keys = [
            k if isinstance(k, str) else k.decode()
            for k in await redis_client.keys(f"{prefix}issued:*")
        ]
        assert keys
        assert all(token not in k for k in keys)
        for key in keys:
            assert token.encode() not in (await redis_client.get(key) or b"")
        paid = await http.post(
            urls["B"] + VA_PATH, content=body, headers=va_payment_headers(token, body, _now())
        )
        assert paid.status_code == 200
        assert paid.json()["responseCode"] == "2002500"
        forged = await http.post(
            urls["B"] + VA_PATH,
            content=body,
            headers=va_payment_headers("not-issued-by-us", body, _now()),
        )
        assert forged.status_code == 401
    runs = await _runs(redis_client, prefix, payment_id)
    assert runs == ["B:attempt", "B:ok"]


async def test_dedupe_lease_renewal_only_for_its_owner(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = RedisDedupeStore(redis_client, prefix=prefix)
    assert await store.claim("slow:00", "me", 5)
    assert await store.extend("slow:00", "me", 60)
    assert 59_000 < await redis_client.pttl(f"{prefix}dedupe:slow:00") <= 60_000
    assert not await store.extend("slow:00", "someone-else", 600)
    assert await redis_client.pttl(f"{prefix}dedupe:slow:00") <= 60_000
    await store.complete("slow:00", 3600)
    assert not await store.extend("slow:00", "me", 60)  # done keys are not leases
    assert await store.get("slow:00") == DEDUPE_DONE

"""The server process and every client variant measured against it.

Floors sit on the **same layer** as the SDK's transport: bare httpx sends through an
``AsyncHTTPTransport`` with the same limits (the SDK skips ``AsyncClient`` too), bare aiohttp
through a ``ClientSession`` with the same connector limit; both sign inline exactly as the SDK
does. The raw client (asyncio streams, keep-alive, hand-parsed answers) is the physical floor.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ayolinx_async import AyolinxClient, Credentials
from ayolinx_async.transport import ConnectionPool, HttpxTransport, Timeout
from ayolinx_async.transport._pool import Target, parse_target
from ayolinx_async.transport.aiohttp import AiohttpTransport

from ._data import CLIENT_KEY, CLIENT_SECRET, QUERY_PATH, REFERENCE, TOKEN_PATH

SERVER_CPU = 0
CLIENT_CPU = 1
#: Generous timeouts: a 10,000-call burst on a shared 2-core machine must not time out.
TIMEOUT = Timeout(connect=120.0, total=120.0)
Op = Callable[[], Awaitable[object]]


def pin_client() -> None:
    """Pin this (client) process to its core, away from the server's."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {CLIENT_CPU})


@contextlib.contextmanager
def counting_server(verify_with: rsa.RSAPublicKey | None = None) -> Iterator[str]:
    """Start ``benchmarks._server`` pinned to its own core; yields its base URL."""
    args = [sys.executable, "-m", "benchmarks._server", str(SERVER_CPU)]
    with tempfile.NamedTemporaryFile(suffix=".pem") as pem:
        if verify_with is not None:
            pem.write(
                verify_with.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
            pem.flush()
            args.append(pem.name)
        child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            yield f"http://127.0.0.1:{port}"
        finally:
            assert child.stdin is not None
            assert child.stdout is not None
            child.stdin.close()
            child.stdout.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def server_counts(url: str) -> dict[str, int]:
    """The server's request counts (a plain blocking GET)."""
    return json.loads(httpx.get(url + "/__counts").content)  # type: ignore[no-any-return]


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def credentials(key: rsa.RSAPrivateKey) -> Credentials:
    return Credentials(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=key)


def sdk_client(key: rsa.RSAPrivateKey, url: str, kind: str, limit: int = 100) -> AyolinxClient:
    """The SDK as a user builds it: ``httpx`` is the default transport, ``aiohttp`` the extra."""
    if kind == "httpx":
        limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        return AyolinxClient(
            credentials(key),
            base_url=url,
            transport=HttpxTransport(timeout=TIMEOUT, limits=limits),
            timeout=TIMEOUT,
        )
    return AyolinxClient(
        credentials(key),
        base_url=url,
        transport=AiohttpTransport(timeout=TIMEOUT, limit=limit),
        timeout=TIMEOUT,
    )


async def close_sdk(client: AyolinxClient) -> None:
    """Close a client and the transport it was given (a passed transport is the caller's)."""
    await client.aclose()
    await client.transport.aclose()


def sdk_default(key: rsa.RSAPrivateKey, url: str) -> AyolinxClient:
    """The SDK with nothing chosen: default transport, default limits."""
    return AyolinxClient(credentials(key), base_url=url, timeout=TIMEOUT)


def typed_op(client: AyolinxClient) -> Op:
    return lambda: client.qris.query(original_partner_reference_no=REFERENCE)


def request_op(client: AyolinxClient) -> Op:
    body = {"originalPartnerReferenceNo": REFERENCE, "additionalInfo": {"channel": "BNC_QRIS"}}
    return lambda: client.request(QUERY_PATH, body, idempotent=True)


class BareSigner:
    """Inline SNAP signing as a hand-written integration does it (spec §5.1, §5.2)."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key
        self._mac = hmac.new(CLIENT_SECRET.encode(), digestmod=hashlib.sha512)
        self.token = ""

    @staticmethod
    def _timestamp() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S+07:00", time.gmtime(time.time() + 7 * 3600))

    def token_request(self) -> tuple[bytes, dict[str, str]]:
        timestamp = self._timestamp()
        raw = self._key.sign(
            f"{CLIENT_KEY}|{timestamp}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-CLIENT-KEY": CLIENT_KEY,
            "X-SIGNATURE": base64.b64encode(raw).decode(),
        }
        return b'{"grantType":"client_credentials"}', headers

    def query_request(self) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {"originalPartnerReferenceNo": REFERENCE, "additionalInfo": {"channel": "BNC_QRIS"}},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        timestamp = self._timestamp()
        mac = self._mac.copy()
        digest = hashlib.sha256(body).hexdigest()
        mac.update(f"POST:{QUERY_PATH}:{self.token}:{digest}:{timestamp}".encode())
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": base64.b64encode(mac.digest()).decode(),
            "X-PARTNER-ID": CLIENT_KEY,
            "X-EXTERNAL-ID": f"{time.time_ns() // 1_000_000:013d}{secrets.randbelow(10**20):020d}",
            "Authorization": f"Bearer {self.token}",
        }
        return body, headers

    def accept_token(self, status: int, content: bytes) -> None:
        self.token = _checked(status, content, "2007300")["accessToken"]


def _checked(status: int, content: bytes, expected: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(content)
    if status != 200 or data.get("responseCode") != expected:
        raise RuntimeError(f"unexpected answer: HTTP {status} {data.get('responseCode')}")
    return data


class BareHttpx:
    """Floor for the httpx transport: the pool (``AsyncHTTPTransport``) the SDK sends to."""

    def __init__(self, key: rsa.RSAPrivateKey, url: str, limit: int = 100) -> None:
        self._signer = BareSigner(key)
        self._url = url
        limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        self._pool = httpx.AsyncHTTPTransport(limits=limits)
        self._query_url = httpx.URL(url + QUERY_PATH)

    async def _send(self, url: httpx.URL, body: bytes, headers: dict[str, str]) -> httpx.Response:
        response = await self._pool.handle_async_request(
            httpx.Request("POST", url, headers=headers, content=body)
        )
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def fetch_token(self) -> None:
        body, headers = self._signer.token_request()
        response = await self._send(httpx.URL(self._url + TOKEN_PATH), body, headers)
        self._signer.accept_token(response.status_code, response.content)

    async def query(self) -> dict[str, Any]:
        body, headers = self._signer.query_request()
        response = await self._send(self._query_url, body, headers)
        return _checked(response.status_code, response.content, "2005100")

    async def aclose(self) -> None:
        await self._pool.aclose()


class BareHttpcorePool:
    """Floor for the default httpx transport, on the layer it sends to: the SDK's own pool of
    httpcore connections (``ConnectionPool``) behind a semaphore of the pool size, signing
    inline. ``BareHttpx`` stays as what a user of plain httpx would get."""

    def __init__(self, key: rsa.RSAPrivateKey, url: str, limit: int = 100) -> None:
        self._signer = BareSigner(key)
        self._pool = ConnectionPool(
            max_connections=limit,
            max_keepalive=limit,
            keepalive_expiry=5.0,
            ssl_context=httpx.create_ssl_context(),
        )
        self._gate = asyncio.Semaphore(limit)
        self._token_target = parse_target(url + TOKEN_PATH)
        self._query_target = parse_target(url + QUERY_PATH)
        self._ext = {"timeout": {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 5.0}}

    async def _send(
        self, target: Target, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        pairs = [(k.encode(), v.encode()) for k, v in headers.items()]
        async with self._gate:
            status, _, content = await self._pool.exchange(b"POST", target, pairs, body, self._ext)
        return status, content

    async def fetch_token(self) -> None:
        body, headers = self._signer.token_request()
        self._signer.accept_token(*await self._send(self._token_target, body, headers))

    async def query(self) -> dict[str, Any]:
        body, headers = self._signer.query_request()
        return _checked(*await self._send(self._query_target, body, headers), "2005100")

    async def aclose(self) -> None:
        await self._pool.aclose()


class BareAiohttp:
    """Floor for the aiohttp transport: one ``ClientSession`` with the same connector limit."""

    def __init__(self, key: rsa.RSAPrivateKey, url: str, limit: int = 100) -> None:
        self._signer = BareSigner(key)
        self._url = url
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def fetch_token(self) -> None:
        body, headers = self._signer.token_request()
        async with self._open().post(self._url + TOKEN_PATH, data=body, headers=headers) as resp:
            content = await resp.read()
        self._signer.accept_token(resp.status, content)

    async def query(self) -> dict[str, Any]:
        body, headers = self._signer.query_request()
        async with self._open().post(self._url + QUERY_PATH, data=body, headers=headers) as resp:
            content = await resp.read()
        return _checked(resp.status, content, "2005100")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class RawClient:
    """The physical floor: asyncio streams, keep-alive connections reused LIFO, same signing."""

    def __init__(self, key: rsa.RSAPrivateKey, url: str, limit: int = 100) -> None:
        self._signer = BareSigner(key)
        host, _, port = url.removeprefix("http://").partition(":")
        self._host, self._port = host, int(port)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._gate = asyncio.Semaphore(limit)

    async def _exchange(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        async with self._gate:
            if self._idle:
                reader, writer = self._idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
                + body
            )
            raw = await reader.readuntil(b"\r\n\r\n")
            marker = raw.lower().find(b"content-length:")
            length = int(raw[marker + 15 : raw.find(b"\r\n", marker)])
            content = await reader.readexactly(length)
            self._idle.append((reader, writer))
            return int(raw[9:12]), content

    async def fetch_token(self) -> None:
        body, headers = self._signer.token_request()
        self._signer.accept_token(*await self._exchange(TOKEN_PATH, body, headers))

    async def query(self) -> dict[str, Any]:
        body, headers = self._signer.query_request()
        return _checked(*await self._exchange(QUERY_PATH, body, headers), "2005100")

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


def requests_rate(key: rsa.RSAPrivateKey, url: str, threads: int, duration: float) -> float:
    """Calls/s of a sync ``requests`` client on ``threads`` threads (one Session per thread):
    what users would write instead of an async SDK."""
    import requests

    signer = BareSigner(key)
    with requests.Session() as session:
        body, headers = signer.token_request()
        answer = session.post(url + TOKEN_PATH, data=body, headers=headers)
        signer.accept_token(answer.status_code, answer.content)
    done = [0] * threads
    deadline = time.perf_counter() + duration

    def worker(index: int) -> None:
        with requests.Session() as own:
            while time.perf_counter() < deadline:
                body, headers = signer.query_request()
                answer = own.post(url + QUERY_PATH, data=body, headers=headers)
                _checked(answer.status_code, answer.content, "2005100")
                done[index] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


async def drive(op: Op, concurrency: int, duration: float) -> float:
    """Calls/s with ``concurrency`` coroutines looping on ``op`` for ``duration`` seconds."""
    return (await drive_measured(op, concurrency, duration))[0]


async def drive_measured(op: Op, concurrency: int, duration: float) -> tuple[float, float]:
    """:func:`drive`, also returning the client thread's CPU microseconds per call (the client
    has its own core: time another process took from it, or the server's pace, is not in it)."""
    done = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await op()
            done += 1

    started, cpu = time.perf_counter(), time.thread_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu_per_call = (time.thread_time() - cpu) / max(done, 1) * 1e6
    return done / (time.perf_counter() - started), cpu_per_call


async def burst(op: Op, calls: int, limit_seconds: float) -> float:
    """Seconds for ``calls`` concurrent calls of ``op`` (all started at once); raises on any
    failure or when ``limit_seconds`` pass.

    Each call's result is dropped when it finishes, as a service handles its answers (``gather``
    would keep all 10,000 until the last one): memory read over a burst is what the calls hold
    while in flight, the same way for every variant."""
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    running: set[asyncio.Task[object]] = set()
    failures: list[BaseException] = []

    def done(task: asyncio.Task[object]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())  # type: ignore[arg-type]
        if not running and not finished.done():
            finished.set_result(None)

    started = time.perf_counter()
    for _ in range(calls):
        task: asyncio.Task[object] = asyncio.ensure_future(op())
        running.add(task)
        task.add_done_callback(done)
    try:
        async with asyncio.timeout(limit_seconds):
            await finished
    finally:
        for task in list(running):
            task.cancel()
    if failures:
        raise failures[0]
    return time.perf_counter() - started

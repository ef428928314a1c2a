"""Callbacks: in process (verifier alone, full ``CallbackHandler.handle``) against a raw
``cryptography`` RSA verify, with headers as the integrations pass them (raw ASGI byte pairs);
and over loopback: the SDK's ASGI app vs a bare ASGI app doing the same verify, both served by
uvicorn in a process pinned to the server core, driven by a raw-asyncio client.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ayolinx_async._wire import format_timestamp
from ayolinx_async.callbacks import DEFAULT_NOTIFY_PATH, CallbackHandler, CallbackVerifier
from ayolinx_async.signing import callback_string_to_sign

from ._clients import SERVER_CPU, new_key
from ._data import CLIENT_KEY, CLIENT_SECRET
from ._report import Check, Report, ratio_cell, ratios

NOTIFY_PATH = DEFAULT_NOTIFY_PATH
TOLERANCE = 3600.0  # seconds; the SDK handler's default window is no wider
WARM_UP = 200  # requests each server answers before the timed rounds
VERIFIER_GOAL = 0.85
HANDLER_GOAL = 0.50
ASGI_GOAL = 0.85
Pairs = list[tuple[bytes, bytes]]


def notification(reference: str) -> bytes:
    return json.dumps(
        {
            "originalReferenceNo": f"A1{reference}",
            "originalPartnerReferenceNo": reference,
            "latestTransactionStatus": "00",
            "transactionStatusDesc": "Success",
            "amount": {"value": "10000.00", "currency": "IDR"},
            "finishedTime": "2024-09-18T13:40:00+07:00",
            "additionalInfo": {"channel": "BNC_QRIS"},
        },
        separators=(",", ":"),
    ).encode()


def signed_pairs(key: rsa.RSAPrivateKey, body: bytes) -> Pairs:
    """Headers as raw lower-case byte pairs, as uvicorn hands them to an ASGI app."""
    timestamp = format_timestamp(time.time())
    message = callback_string_to_sign("POST", NOTIFY_PATH, body, timestamp)
    raw = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-timestamp", timestamp.encode()),
        (b"x-signature", base64.b64encode(raw)),
        (b"x-partner-id", CLIENT_KEY.encode()),
        (b"x-external-id", b"1726120500123456789012345678901"),
        (b"channel-id", b"95221"),
        (b"user-agent", b"Ayolinx-Notify/1.0"),
    ]


# In process every variant is pure CPU work in this thread: its rate is taken over the thread's
# CPU time, so another process on the machine taking the core for a while does not count.


def _rate(op: Callable[[], object], calls: int) -> float:
    gc.collect()
    started = time.thread_time()
    for _ in range(calls):
        op()
    return calls / (time.thread_time() - started)


async def _handler_rate(handler: CallbackHandler, deliveries: list[tuple[Pairs, bytes]]) -> float:
    gc.collect()
    started = time.thread_time()
    for pairs, body in deliveries:
        response = await handler.handle("POST", NOTIFY_PATH, pairs, body)
        if response.status != 200:
            raise RuntimeError(f"handler answered {response.status}: {response.body!r}")
    return len(deliveries) / (time.thread_time() - started)


_PKCS1, _SHA256 = padding.PKCS1v15(), hashes.SHA256()


def floor_check(public: rsa.RSAPublicKey, pairs: Pairs, body: bytes) -> None:
    """The least a correct notify check does, by hand: the headers read from the raw pairs as
    an integration passes them, a stale X-TIMESTAMP refused, the string to sign built and the
    signature decoded and verified. The bare ASGI app (``_callback_server``) does the same."""
    headers = dict(pairs)
    timestamp = headers[b"x-timestamp"].decode()
    if abs(datetime.fromisoformat(timestamp).timestamp() - time.time()) > TOLERANCE:
        raise ValueError("stale X-TIMESTAMP")
    message = callback_string_to_sign("POST", NOTIFY_PATH, body, timestamp).encode()
    public.verify(base64.b64decode(headers[b"x-signature"]), message, _PKCS1, _SHA256)


def _floor_rate(public: rsa.RSAPublicKey, deliveries: list[tuple[Pairs, bytes]]) -> float:
    """The floor's rate over the handler's own deliveries: the same distinct pairs and bodies,
    not one delivery whose bytes stay in cache (that made the floor some 7% faster)."""
    gc.collect()
    started = time.thread_time()
    for pairs, body in deliveries:
        floor_check(public, pairs, body)
    return len(deliveries) / (time.thread_time() - started)


def _in_process(key: rsa.RSAPrivateKey, rounds: int, calls: int) -> Report:
    body = notification("ORDER-000001")
    pairs = signed_pairs(key, body)
    public = key.public_key()
    raw = functools.partial(floor_check, public, pairs, body)  # beside the verifier: one delivery
    verifier = CallbackVerifier(public, client_secret=CLIENT_SECRET)

    def sdk() -> None:
        verifier.verify_notification(path=NOTIFY_PATH, headers=pairs, body=body)

    seen = 0

    async def on_event(event: object) -> None:
        nonlocal seen
        seen += 1

    def new_handler() -> CallbackHandler:
        return CallbackHandler(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            ayolinx_public_keys=public,
            on_event=on_event,
        )

    # Distinct references, so every delivery is a first one (dedupe and listeners really run);
    # each round gets a fresh handler (empty memory store), so one signed batch serves them all.
    deliveries = [(signed_pairs(key, b := notification(f"R-{n:06d}")), b) for n in range(calls + 1)]
    warm, deliveries = deliveries[:1], deliveries[1:]
    raw()  # first-call work untimed
    sdk()
    asyncio.run(_handler_rate(new_handler(), warm))
    floor: list[float] = []
    ours: list[float] = []
    handled: list[float] = []
    floor_h: list[float] = []
    for index in range(rounds):
        pair: list[tuple[list[float], Callable[[], object]]] = [(floor, raw), (ours, sdk)]
        for samples, op in pair if index % 2 == 0 else pair[::-1]:
            samples.append(_rate(op, calls))
        handled.append(asyncio.run(_handler_rate(new_handler(), deliveries)))
        floor_h.append(_floor_rate(public, deliveries))
    if seen != 1 + rounds * len(deliveries):
        raise RuntimeError("the listener missed events")
    verify_ratios = ratios(ours, floor)
    handler_ratios = ratios(handled, floor_h)
    report = Report(
        title="Callbacks in process",
        setup=(
            f"RSA-2048 SHA256withRSA notify, 9 raw ASGI header pairs; {rounds} interleaved rounds"
            f" x {calls} calls (handler: {calls} distinct first deliveries, a fresh handler with"
            " memory stores per round). Floor: headers read from the raw pairs, stale"
            " X-TIMESTAMP refused, signature verified (as the bare ASGI app); the handler's"
            " floor checks the handler's own deliveries. Rates over thread CPU time; ratio ="
            " per-round rate / floor rate, median [min-max]."
        ),
        columns=["variant", "median calls/s", "ratio to floor"],
        rows=[
            ["raw cryptography verify (floor)", statistics.median(floor), "1"],
            [
                "CallbackVerifier.verify_notification",
                statistics.median(ours),
                ratio_cell(verify_ratios),
            ],
            ["CallbackHandler.handle", statistics.median(handled), ratio_cell(handler_ratios)],
        ],
    )
    report.checks.append(
        Check(
            "callback verifier / raw verify", statistics.median(verify_ratios), ">=", VERIFIER_GOAL
        )
    )
    report.checks.append(
        Check("full handler / raw verify", statistics.median(handler_ratios), ">=", HANDLER_GOAL)
    )
    return report


class _Uvicorn:
    """``python -m benchmarks._callback_server KIND PEMFILE`` pinned to the server core."""

    def __init__(self, kind: str, pem_file: str) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._callback_server", kind, pem_file, str(SERVER_CPU)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._child.stdout is not None
        self.port = int(self._child.stdout.readline())

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system)."""
        assert self._child.stdin is not None
        assert self._child.stdout is not None
        self._child.stdin.write(b"\n")
        self._child.stdin.flush()
        return float(self._child.stdout.readline())

    def close(self) -> None:
        assert self._child.stdin is not None
        self._child.stdin.close()
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()


async def _post_all(port: int, requests: list[bytes], concurrency: int) -> float:
    """Calls/s sending pre-built raw requests over ``concurrency`` keep-alive connections."""
    queue = list(reversed(requests))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            writer.write(queue.pop())
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"callback answered {head[:40]!r}")
            marker = head.lower().find(b"content-length:")
            await reader.readexactly(int(head[marker + 15 : head.find(b"\r\n", marker)]))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(requests) / (time.perf_counter() - started)


def _raw_request(pairs: Pairs, body: bytes) -> bytes:
    head = b"".join(name + b": " + value + b"\r\n" for name, value in pairs)
    return b"POST " + NOTIFY_PATH.encode() + b" HTTP/1.1\r\n" + head + b"\r\n" + body


def _asgi(key: rsa.RSAPrivateKey, rounds: int, calls: int) -> Report:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Both apps get the same requests in a round (the bare app keeps no dedupe state, and for
    # the SDK app each is a first delivery); a warm-up batch first, untimed, for both.
    warm_up, *batches = [
        [
            _raw_request(signed_pairs(key, b := notification(f"A{i}-{n:06d}")), b)
            for n in range(calls if i else WARM_UP)
        ]
        for i in range(rounds + 1)
    ]
    with tempfile.NamedTemporaryFile(suffix=".pem") as pem_file:
        pem_file.write(pem)
        pem_file.flush()
        servers = {kind: _Uvicorn(kind, pem_file.name) for kind in ("bare", "sdk")}
        try:
            for server in servers.values():
                asyncio.run(_post_all(server.port, warm_up, 16))
            rates: dict[str, list[float]] = {"bare": [], "sdk": []}
            cpu: dict[str, list[float]] = {"bare": [], "sdk": []}
            for index, batch in enumerate(batches):
                for kind in ["bare", "sdk"] if index % 2 == 0 else ["sdk", "bare"]:
                    server = servers[kind]
                    before = server.cpu_seconds()
                    rates[kind].append(asyncio.run(_post_all(server.port, batch, 16)))
                    cpu[kind].append((server.cpu_seconds() - before) / len(batch) * 1e6)
        finally:
            for server in servers.values():
                server.close()
    values = ratios(rates["sdk"], rates["bare"])
    report = Report(
        title="Callbacks over loopback (uvicorn, ASGI)",
        setup=(
            f"{calls} distinct signed notifies per round (the same ones to both apps) over 16"
            " keep-alive connections from a raw-asyncio client, after an untimed warm-up of"
            f" {WARM_UP}; uvicorn (h11, 1 worker) pinned to core 0; bare ASGI app reads the body,"
            " refuses a stale X-TIMESTAMP, verifies the RSA signature, parses the JSON and answers"
            f" the ack (the least a correct endpoint does); {rounds} interleaved rounds."
        ),
        columns=["app", "median callbacks/s", "ratio to bare", "server CPU us/callback"],
        rows=[
            [
                "bare ASGI app (floor)",
                statistics.median(rates["bare"]),
                "1",
                _cpu_cell(cpu["bare"]),
            ],
            [
                "SDK CallbackASGIApp",
                statistics.median(rates["sdk"]),
                ratio_cell(values),
                _cpu_cell(cpu["sdk"]),
            ],
        ],
    )
    report.checks.append(
        Check("SDK ASGI app / bare ASGI app", statistics.median(values), ">=", ASGI_GOAL)
    )
    return report


def _cpu_cell(samples: list[float]) -> str:
    """Median [min-max] of per-round server CPU microseconds per callback."""
    return f"{statistics.median(samples):.0f} [{min(samples):.0f}-{max(samples):.0f}]"


def run(quick: bool = False) -> list[Report]:
    # Many short interleaved rounds: a round costs well under a second (in process, the signed
    # deliveries serve every round), and their median holds where one slow moment of a shared
    # machine moves a single round's ratio by a tenth.
    key = new_key()
    in_process = _in_process(key, *((3, 300) if quick else (15, 1500)))
    return [in_process, _asgi(key, *((2, 300) if quick else (11, 1000)))]

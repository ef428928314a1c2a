"""P4: callback verification throughput — the SDK's verifier vs a raw ``cryptography`` RSA
verify loop over the same signature (the floor: nothing but the RSA public-key operation)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ayolinx_async._wire import format_timestamp
from ayolinx_async.callbacks import CallbackHandler, CallbackVerifier
from ayolinx_async.signing import callback_string_to_sign

from ._fixtures import CLIENT_KEY, CLIENT_SECRET, new_key
from ._report import Check, Report, median, paired_ratio

ROUNDS = 9
CALLS = 1500
GOAL = 0.8
NOTIFY_PATH = "/ayolinx/notify"


def _notification(reference: str) -> bytes:
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


def _signed(key: rsa.RSAPrivateKey, body: bytes) -> dict[str, str]:
    timestamp = format_timestamp(time.time())
    message = callback_string_to_sign("POST", NOTIFY_PATH, body, timestamp)
    raw = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": base64.b64encode(raw).decode(),
        "X-PARTNER-ID": CLIENT_KEY,
        "X-EXTERNAL-ID": "1726120500123456789012345678901",
        "CHANNEL-ID": "95221",
        "User-Agent": "Ayolinx-Notify/1.0",
    }


def _rate(op: Callable[[], object], calls: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        op()
    return calls / (time.perf_counter() - started)


def _verifier_op(key: rsa.RSAPrivateKey, body: bytes, headers: dict[str, str]) -> Callable[[], Any]:
    """One notify verification through the SDK's ``CallbackVerifier``."""
    verifier = CallbackVerifier(key.public_key(), client_secret=CLIENT_SECRET)
    return lambda: verifier.verify_notification(path=NOTIFY_PATH, headers=headers, body=body)


async def _handler_rate(key: rsa.RSAPrivateKey, count: int) -> float:
    """First deliveries/s through the whole ``CallbackHandler`` (verify, parse, dedupe, ack)."""
    seen = 0

    async def on_event(event: object) -> None:
        nonlocal seen
        seen += 1

    handler = CallbackHandler(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_keys=key.public_key(),
        on_event=on_event,
    )
    deliveries = []
    for index in range(count):
        body = _notification(f"ORDER-{index:06d}")
        deliveries.append((_signed(key, body), body))
    gc.collect()
    started = time.perf_counter()
    for headers, body in deliveries:
        response = await handler.handle("POST", NOTIFY_PATH, headers, body)
        if response.status != 200:
            raise RuntimeError(f"handler answered {response.status}: {response.body!r}")
    rate = count / (time.perf_counter() - started)
    if seen != count:
        raise RuntimeError(f"listener saw {seen} of {count} events")
    return rate


def run(quick: bool = False) -> list[Report]:
    rounds, calls = (3, 300) if quick else (ROUNDS, CALLS)
    key = new_key()
    body = _notification("ORDER-000001")
    headers = _signed(key, body)
    public = key.public_key()
    message = callback_string_to_sign("POST", NOTIFY_PATH, body, headers["X-TIMESTAMP"]).encode()
    signature = base64.b64decode(headers["X-SIGNATURE"])
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def raw() -> None:
        public.verify(signature, message, pkcs1, sha256)

    sdk = _verifier_op(key, body, headers)
    sdk()  # a wrong setup fails here, before timing
    floor: list[float] = []
    ours: list[float] = []
    for index in range(rounds):
        pair = [(floor, raw), (ours, sdk)]
        for samples, op in pair if index % 2 == 0 else pair[::-1]:
            samples.append(_rate(op, calls))
    ratio = paired_ratio(ours, floor)
    report = Report(
        title="P4 callback verification",
        setup=(
            f"{rounds} interleaved rounds x {calls} verifications, RSA-2048 SHA256withRSA, one"
            " ~300-byte notify body with 7 headers; ratio = median over rounds of verified/s over"
            " the floor's in the same round."
        ),
        columns=["variant", "median verified/s", "best verified/s", "ratio"],
        rows=[
            ["raw cryptography verify (floor)", median(floor), max(floor), 1.0],
            ["SDK CallbackVerifier.verify_notification", median(ours), max(ours), ratio],
        ],
    )
    handler_rate = asyncio.run(_handler_rate(key, 200 if quick else 1000))
    report.rows.append(
        [
            "SDK CallbackHandler.handle (verify+parse+dedupe+ack)",
            handler_rate,
            "",
            handler_rate / median(floor),
        ]
    )
    report.checks.append(Check("P4 SDK/raw verify", ratio, ">=", GOAL))
    return [report]

"""Issue 15's cheaper callback path keeps every rule: listener timeouts from one shared timer per
event loop (none scheduled per delivery) with ``asyncio.timeout``'s semantics, raw header pairs
read without decoding, mandatory fields checked from one read, and the ASGI answer headers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.callbacks import (
    CallbackEvent,
    CallbackRejected,
    Headers,
    QrisNotification,
    parse_notification,
)
from ayolinx_async.callbacks._answers import NOTIFY_ACK, error_response, header_pairs

from ._helpers import (
    NOTIFY_PATH,
    FakeClock,
    encode,
    make_handler,
    notify_headers,
    qris_body,
    send_notify,
)

pytestmark = pytest.mark.anyio


async def _hang(event: CallbackEvent) -> None:
    await anyio.sleep_forever()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_delivery_schedules_no_timer_of_its_own(
    ayolinx_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``asyncio.timeout`` armed and cancelled a timer handle per delivery; one shared timer
    per loop, armed at the oldest deadline, replaces them."""
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def counting(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        armed.append(when)
        return call_at(when, *args, **kwargs)

    clock = FakeClock()
    handler = make_handler(ayolinx_key, clock)
    monkeypatch.setattr(loop, "call_at", counting)
    for n in range(5):
        response = await send_notify(handler, ayolinx_key, clock, qris_body(ref=f"TIMER{n}"))
        assert response.status == 200
    assert len(armed) <= 1


async def test_each_overrunning_delivery_times_out_at_its_own_deadline(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    """Three deliveries started 0.1 s apart under a 0.3 s timeout: the two hung ones are
    cancelled 0.3 s after each started, the quick one in between is acknowledged."""
    clock = FakeClock()

    async def listener(event: CallbackEvent) -> None:
        assert isinstance(event, QrisNotification)
        if event.reference == "QUICK":
            await anyio.sleep(0.05)
            return
        await anyio.sleep_forever()

    handler = make_handler(ayolinx_key, clock, on_event=listener, listener_timeout=0.3)
    took: dict[str, tuple[int, float]] = {}

    async def deliver(ref: str, delay: float) -> None:
        await anyio.sleep(delay)
        started = time.perf_counter()
        response = await send_notify(handler, ayolinx_key, clock, qris_body(ref=ref))
        took[ref] = (response.status, time.perf_counter() - started)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(deliver, "HUNG1", 0.0)
            tg.start_soon(deliver, "QUICK", 0.1)
            tg.start_soon(deliver, "HUNG2", 0.2)
    assert took["QUICK"][0] == 200
    for ref in ("HUNG1", "HUNG2"):
        status, elapsed = took[ref]
        assert status == 504
        assert 0.25 < elapsed < 1.5, (ref, elapsed)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_listener_that_swallows_the_timeout_is_acknowledged(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    """As with ``asyncio.timeout``: the listener finished, so the delivery succeeded, and the
    request's task carries no leftover cancellation."""
    clock = FakeClock()
    caught: list[str] = []

    async def stubborn(event: CallbackEvent) -> None:
        try:
            await anyio.sleep_forever()
        except asyncio.CancelledError:
            caught.append("cancelled")

    handler = make_handler(ayolinx_key, clock, on_event=stubborn, listener_timeout=0.05)
    with anyio.fail_after(5):
        response = await send_notify(handler, ayolinx_key, clock, qris_body())
    assert (response.status, caught) == (200, ["cancelled"])
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_cancellation_pending_at_the_timeout_wins(ayolinx_key: rsa.RSAPrivateKey) -> None:
    """A request cancelled while its listener is being timed out is cancelled, not answered
    504, and its claim is released for the redelivery."""
    clock = FakeClock()
    runs: list[str] = []

    async def listener(event: CallbackEvent) -> None:
        runs.append("run")
        if len(runs) > 1:
            return
        try:
            await anyio.sleep_forever()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()  # the server cancels the request at the same moment
            raise

    handler = make_handler(ayolinx_key, clock, on_event=listener, listener_timeout=0.05)
    body = qris_body()
    with pytest.raises(asyncio.CancelledError):
        await send_notify(handler, ayolinx_key, clock, body)
    task = asyncio.current_task()
    assert task is not None
    task.uncancel()
    again = await send_notify(handler, ayolinx_key, clock, body)
    assert (again.status, runs) == (200, ["run", "run"])


def test_listener_timeout_holds_on_each_new_event_loop(ayolinx_key: rsa.RSAPrivateKey) -> None:
    """The shared timer belongs to one loop: a handler reused under a new ``asyncio.run`` arms
    another there."""
    clock = FakeClock()
    handler = make_handler(ayolinx_key, clock, on_event=_hang, listener_timeout=0.05)

    async def one(ref: str) -> int:
        with anyio.fail_after(5):
            response = await send_notify(handler, ayolinx_key, clock, qris_body(ref=ref))
        return response.status

    assert [asyncio.run(one(f"LOOP{n}")) for n in range(3)] == [504, 504, 504]


def test_raw_byte_pairs_are_read_case_insensitively() -> None:
    """Lower-case names (what ASGI servers send) and mixed case (aiohttp's ``raw_headers``, a
    tuple) read alike; a name repeated in another case is refused, never one value picked."""
    lower = [(b"x-signature", b" sig "), (b"x-timestamp", b"ts")]
    mixed = ((b"X-Signature", b" sig "), (b"X-TIMESTAMP", b"ts"))
    for source in (lower, mixed):
        view = Headers(source)
        assert (view.one("X-SIGNATURE"), view.get("x-timestamp")) == ("sig", "ts")
        assert view.values("X-Timestamp") == ("ts",)
        assert "X-Partner-Id" not in view
    repeated = Headers([(b"x-signature", b"a"), (b"X-Signature", b"b")])
    with pytest.raises(CallbackRejected) as info:
        repeated.one("x-signature")
    assert info.value.reason == "duplicate_header"
    blank = Headers([(b"x-signature", b"  ")])
    with pytest.raises(CallbackRejected) as missing:
        blank.one("X-SIGNATURE")
    assert missing.value.reason == "missing_header"


async def test_notify_verified_from_raw_asgi_pairs(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock = FakeClock()
    handler = make_handler(ayolinx_key, clock)
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, clock.stamp())
    pairs = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    assert (await handler("POST", NOTIFY_PATH, pairs, body)).status == 200


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        # A missing mandatory field is reported before an unreadable one, as when checked first.
        ({"latestTransactionStatus": None, "amount": {"value": "x"}}, "missing_field", "latest"),
        (
            {"originalReferenceNo": None, "originalPartnerReferenceNo": None},
            "missing_field",
            "originalRef",
        ),
        ({"originalReferenceNo": "\u0661", "amount": {"value": "x"}}, "bad_field", "originalRef"),
        ({"amount": {"value": "x"}}, "bad_amount", "amount.value"),
    ],
)
def test_mandatory_field_errors_keep_their_order(
    changes: dict[str, Any], reason: str, field: str
) -> None:
    body = json.loads(qris_body())
    for name, value in changes.items():
        if value is None:
            del body[name]
        else:
            body[name] = value
    with pytest.raises(CallbackRejected) as info:
        parse_notification(encode(body))
    assert info.value.reason == reason
    assert field in info.value.message


def test_utf16_body_decodes_as_json_loads_does() -> None:
    body = json.loads(qris_body())
    event = parse_notification(json.dumps(body).encode("utf-16"))
    assert event.body == body


def test_answer_headers_as_asgi_pairs() -> None:
    assert header_pairs(NOTIFY_ACK) == [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(NOTIFY_ACK.body)).encode()),
    ]
    status, headers, body = error_response(405, "4055600", "Not Allowed")
    pairs = header_pairs(type(NOTIFY_ACK)(status, {**headers, "allow": "POST"}, body))
    assert pairs[-2:] == [(b"allow", b"POST"), (b"content-length", str(len(body)).encode())]

"""Issue 12 on the callback handler: VA answers built as strict JSON before listeners run,
``listener_timeout``, no task per delivery, ``confirm_with`` against the embedded simulator,
per-merchant namespaces and no token in crash-report frame locals."""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import attrs
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient
from ayolinx_async._resources.qris import QUERY_PATH as QRIS_QUERY_PATH
from ayolinx_async._wire import format_timestamp
from ayolinx_async.callbacks import (
    DEFAULT_LISTENER_TIMEOUT,
    CallbackEvent,
    CallbackHandler,
    CallbackResponse,
    MemoryDedupeStore,
    MemoryIssuedTokenStore,
    NotifyRoute,
    PaymentNotification,
    QrisNotification,
    secret_notify_path,
)
from ayolinx_async.simulator import MerchantAccount, Simulator

from ._helpers import (
    CLIENT_KEY,
    NOTIFY_PATH,
    TOKEN_PATH,
    VA_PATH,
    FakeClock,
    Recorder,
    encode,
    issue_token,
    make_handler,
    notify_headers,
    qris_body,
    send_notify,
    send_va_payment,
    token_body,
    token_headers,
    va_payment_body,
    va_payment_headers,
)

pytestmark = pytest.mark.anyio

ACK = {"responseCode": "2005600", "responseMessage": "Successful"}


def _strict_json(body: bytes) -> Any:
    """Parse as a strict peer would: UTF-8 only, no NaN/Infinity, no lone surrogates."""

    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    value = json.loads(body.decode("utf-8", errors="strict"), parse_constant=refuse)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate escape fails here
    return value


# --- A. every answer is strict JSON, the VA answer is built before the listener runs ---------


def _va_with(**changes: Any) -> bytes:
    body = json.loads(va_payment_body())
    body.update(changes)
    return encode(body)


def _raw_va(fragment: str) -> bytes:
    """A VA body whose ``paidAmount.value`` is the literal JSON ``fragment`` (not a string)."""
    return va_payment_body().replace(b'"value":"11500.00"', b'"value":' + fragment.encode())


HOSTILE_VA_BODIES = {
    "paid-nan": _raw_va("NaN"),
    "paid-infinity": _raw_va("Infinity"),
    "paid-minus-infinity": _raw_va("-Infinity"),
    "paid-1e5000": _raw_va("1e5000"),
    "paid-1e999999": _raw_va("1E+999999"),
    "paid-long-int": _raw_va("9" * 5000),
    "name-lone-surrogate": _va_with(virtualAccountName="\ud800"),
    "info-lone-surrogate": va_payment_body().replace(b'"123456"', b'"\\udc00x"'),
    "echo-nan": va_payment_body().replace(b'"C"', b"NaN"),
    "echo-1e5000": va_payment_body().replace(b'"C"', b"1e5000"),
    "plain": va_payment_body(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_VA_BODIES))
async def test_every_va_answer_is_strict_json_and_refused_bodies_never_reach_listeners(
    name: str, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    recorder = Recorder()
    handler = make_handler(ayolinx_key, clock, on_event=recorder)
    token = await issue_token(handler, ayolinx_key, clock)
    body = HOSTILE_VA_BODIES[name]
    started = time.perf_counter()
    response = await send_va_payment(handler, token, clock, body)
    assert time.perf_counter() - started < 0.5
    answer = _strict_json(response.body)
    if name == "plain":
        assert response.status == 200
        assert answer["responseCode"] == "2002500"
        assert recorder.calls == 1
    else:
        assert response.status == 400, (name, response.body)
        assert answer["responseCode"].startswith("40025")
        assert recorder.calls == 0  # never a listener run followed by a bad answer
        # The redelivery is refused the same way: no 500 loop.
        again = await send_va_payment(handler, token, clock, body)
        assert again.status == 400


@pytest.mark.parametrize(
    "fragment", ["NaN", "Infinity", "1e5000", "1E+999999", '"\\ud800"', "0.1e-99999"]
)
async def test_every_notify_answer_is_strict_json(
    fragment: str, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    recorder = Recorder()
    handler = make_handler(ayolinx_key, clock, on_event=recorder)
    body = qris_body().replace(b'"value":"20000.00"', b'"value":' + fragment.encode())
    response = await send_notify(handler, ayolinx_key, clock, body)
    _strict_json(response.body)
    assert response.status == 400 or recorder.calls == 1


# --- B. listener_timeout, and no task per delivery ------------------------------------------


async def test_default_listener_timeout_is_documented(ayolinx_key: rsa.RSAPrivateKey) -> None:
    handler = make_handler(ayolinx_key, FakeClock())
    assert handler.listener_timeout == DEFAULT_LISTENER_TIMEOUT == 20.0
    assert make_handler(ayolinx_key, FakeClock(), listener_timeout=None).listener_timeout is None


async def test_hung_listener_is_cancelled_at_the_timeout_and_the_redelivery_runs_it(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    clock = FakeClock()
    runs: list[str] = []

    async def listener(event: CallbackEvent) -> None:
        runs.append("start")
        if len(runs) == 1:
            try:
                await anyio.sleep_forever()
            finally:
                runs.append("cancelled")

    handler = make_handler(ayolinx_key, clock, on_event=listener, listener_timeout=0.2)
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, clock.stamp())
    started = time.perf_counter()
    with anyio.fail_after(5):
        first = await handler("POST", NOTIFY_PATH, headers, body)
    assert 0.15 < time.perf_counter() - started < 2
    assert first.status == 504
    assert _strict_json(first.body)["responseCode"] == "5045600"
    assert runs == ["start", "cancelled"]
    # The claim was released: the redelivery runs the listener, which now completes.
    second = await handler("POST", NOTIFY_PATH, headers, body)
    assert (second.status, second.json()) == (200, ACK)
    third = await handler("POST", NOTIFY_PATH, headers, body)
    assert (third.status, third.json()) == (200, ACK)  # done: a duplicate, not re-run
    assert runs == ["start", "cancelled", "start"]


async def test_hung_va_listener_times_out_without_answering_success(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    clock = FakeClock()

    async def hang(event: CallbackEvent) -> None:
        await anyio.sleep_forever()

    handler = make_handler(ayolinx_key, clock, on_event=hang, listener_timeout=0.05)
    token = await issue_token(handler, ayolinx_key, clock)
    body = va_payment_body()
    response = await send_va_payment(handler, token, clock, body)
    assert response.status == 504
    assert _strict_json(response.body)["responseCode"] == "5042500"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_delivery_starts_no_task(ayolinx_key: rsa.RSAPrivateKey) -> None:
    """Issue 15: listeners run in the request's own task; 0.1 started a task group and a lease
    renewal task for every delivery."""
    import asyncio

    clock = FakeClock()
    seen: list[int] = []

    async def listener(event: CallbackEvent) -> None:
        seen.append(len(asyncio.all_tasks()))

    handler = make_handler(ayolinx_key, clock, on_event=listener)
    before = len(asyncio.all_tasks())
    for n in range(3):
        body = qris_body(ref=f"T{n}")
        response = await send_notify(handler, ayolinx_key, clock, body)
        assert response.status == 200
    assert seen == [before] * 3


async def test_slow_listener_lease_is_renewed_by_one_shared_timer(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    """Four slow deliveries at once under a 0.15 s lease: every lease is renewed while its
    listener runs (redeliveries get 409), each listener runs once."""
    runs: list[str] = []
    release = anyio.Event()

    async def slow(event: CallbackEvent) -> None:
        assert isinstance(event, QrisNotification)
        runs.append(event.dedupe_key)
        await release.wait()

    handler = make_handler(ayolinx_key, time.time, on_event=slow, processing_lease=0.15)
    bodies = [qris_body(ref=f"SLOW{n}") for n in range(4)]
    stamp = format_timestamp(time.time())
    answers: list[CallbackResponse] = []

    async def deliver(body: bytes) -> None:
        headers = notify_headers(ayolinx_key, body, stamp)
        answers.append(await handler("POST", NOTIFY_PATH, headers, body))

    async with anyio.create_task_group() as tg:
        for body in bodies:
            tg.start_soon(deliver, body)
        await anyio.sleep(0.5)  # more than three original leases
        for body in bodies:
            again = await handler(
                "POST", NOTIFY_PATH, notify_headers(ayolinx_key, body, stamp), body
            )
            assert again.status == 409, again.body
        release.set()
    assert sorted(a.status for a in answers) == [200] * 4
    assert len(runs) == 4


# --- C. confirm_with: a genuine callback for someone else's payment -------------------------


@attrs.define
class _Captured:
    """Callbacks the simulator sent, as (path, headers, body), instead of a merchant server."""

    sent: list[tuple[str, dict[str, str], bytes]] = attrs.field(factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, dict(request.headers), request.content))
        return httpx.Response(200, json=ACK)

    def last(self) -> tuple[str, dict[str, str], bytes]:
        return self.sent[-1]


@attrs.define
class _World:
    sim: Simulator
    captured: _Captured
    merchant: AyolinxClient  # merchant A, whose handler is under test
    other: AyolinxClient  # merchant B: genuine callbacks of its own
    recorder: Recorder
    handler: CallbackHandler

    async def qris(self, client: AyolinxClient, order: str, amount: int) -> str:
        await client.qris.generate(
            partner_reference_no=order,
            amount=amount,
            notification_url=f"https://{'a' if client is self.merchant else 'b'}.example"
            + NOTIFY_PATH,
        )
        return order

    async def pay_and_forward(self, reference: str) -> CallbackResponse:
        """Pay in the simulator and post the callback it signed to merchant A's handler."""
        await self.sim.pay(reference)
        await self.sim.drain(timeout=5)
        path, headers, body = self.captured.last()
        assert path == NOTIFY_PATH
        return await self.handler("POST", NOTIFY_PATH, headers, body)


@asynccontextmanager
async def _world(ayolinx_key: rsa.RSAPrivateKey, **options: Any) -> AsyncIterator[_World]:
    captured = _Captured()
    other_account = MerchantAccount.generate()
    async with httpx.AsyncClient(transport=httpx.MockTransport(captured)) as delivery:
        sim = Simulator(ayolinx_key=ayolinx_key, http_client=delivery)
        sim.add_merchant(other_account)
        async with (
            sim,
            sim.client(max_retries=0) as merchant,
            sim.client(credentials=sim.credentials(other_account.client_key)) as other,
        ):
            recorder = Recorder()
            account = sim.merchant
            handler = CallbackHandler(
                client_key=account.client_key,
                client_secret=account.client_secret,
                ayolinx_public_keys=sim.ayolinx_public_key,
                on_event=recorder,
                confirm_with=merchant,
                **options,
            )
            yield _World(sim, captured, merchant, other, recorder, handler)


def _order(name: str) -> str:
    return f"ORD{name}{time.time_ns()}"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_own_genuine_callback_is_delivered_confirmed(ayolinx_key: rsa.RSAPrivateKey) -> None:
    async with _world(ayolinx_key) as world:
        order = await world.qris(world.merchant, _order("OWN"), 25000)
        response = await world.pay_and_forward(order)
        assert (response.status, response.json()) == (200, ACK)
        (event,) = world.recorder.events
        assert isinstance(event, QrisNotification)
        assert event.confirmed is True
        assert event.original_partner_reference_no == order


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_foreign_genuine_callback_for_an_unknown_order_is_not_delivered(
    ayolinx_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    async with _world(ayolinx_key) as world:
        order = await world.qris(world.other, _order("FOREIGN"), 1)
        response = await world.pay_and_forward(order)
        assert response.status == 404
        assert _strict_json(response.body)["responseCode"] == "4045601"
        assert world.recorder.calls == 0
        assert "refused" in caplog.text


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_foreign_rp1_callback_for_my_order_number_is_not_delivered(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    """B names its own Rp 1 QR after A's order: unpaid at A (status disagrees), then paid at A
    for Rp 25,000 (reference and amount disagree). Neither reaches A's listener."""
    async with _world(ayolinx_key) as world:
        order = _order("SHARED")
        await world.qris(world.merchant, order, 25000)
        await world.qris(world.other, order, 1)
        foreign_ref = world.sim.transactions()[-1].reference_no
        await world.sim.pay(foreign_ref)
        await world.sim.drain(timeout=5)
        foreign = world.captured.last()
        unpaid = await world.handler("POST", NOTIFY_PATH, foreign[1], foreign[2])
        assert unpaid.status == 409
        assert world.recorder.calls == 0

        own_ref = world.sim.transactions()[0].reference_no
        own = await world.pay_and_forward(own_ref)
        assert own.status == 200
        again = await world.handler("POST", NOTIFY_PATH, foreign[1], foreign[2])
        assert again.status == 409
        (event,) = world.recorder.events
        assert event.confirmed
        assert isinstance(event, PaymentNotification)
        assert event.amount is not None
        assert event.amount.value == 25000


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_failing_status_query_answers_503_and_the_redelivery_is_confirmed(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    async with _world(ayolinx_key) as world:
        order = await world.qris(world.merchant, _order("FLAKY"), 25000)
        await world.merchant.get_access_token()
        world.sim.inject_fault("error", count=1, path=QRIS_QUERY_PATH)
        failed = await world.pay_and_forward(order)
        assert failed.status == 503
        assert _strict_json(failed.body)["responseCode"] == "5035600"
        assert world.recorder.calls == 0
        path, headers, body = world.captured.last()
        retried = await world.handler("POST", path, headers, body)
        assert retried.status == 200
        assert [e.confirmed for e in world.recorder.events] == [True]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_non_final_status_is_not_queried(ayolinx_key: rsa.RSAPrivateKey) -> None:
    async with _world(ayolinx_key) as world:
        order = await world.qris(world.merchant, _order("PAYING"), 25000)
        await world.sim.set_status(order, "02")
        await world.sim.drain(timeout=5)
        path, headers, body = world.captured.last()
        queries = len([r for r in world.sim.requests() if r.path == QRIS_QUERY_PATH])
        response = await world.handler("POST", path, headers, body)
        assert response.status == 200
        assert [e.confirmed for e in world.recorder.events] == [False]
        assert len([r for r in world.sim.requests() if r.path == QRIS_QUERY_PATH]) == queries


def test_secret_notify_path_is_random_and_routable() -> None:
    first, second = secret_notify_path(), secret_notify_path()
    assert first != second
    assert re.fullmatch(r"/ayolinx/notify/[A-Za-z0-9_-]{22}", first)
    assert NotifyRoute(path=first).path == first
    assert secret_notify_path("/hooks/").startswith("/hooks/")


# --- D. namespaces ----------------------------------------------------------------------------


async def test_two_merchants_on_one_store_never_collide(ayolinx_key: rsa.RSAPrivateKey) -> None:
    """B's notify without originalReferenceNo is not A's duplicate; B's token is not A's."""
    clock = FakeClock()
    dedupe, tokens = MemoryDedupeStore(clock=clock), MemoryIssuedTokenStore(clock=clock)
    a_events, b_events = Recorder(), Recorder()
    shared = {"dedupe_store": dedupe, "token_store": tokens}
    a = make_handler(ayolinx_key, clock, on_event=a_events, **shared)
    b = make_handler(ayolinx_key, clock, on_event=b_events, client_key="CK-merchant-b", **shared)
    assert a.namespace != b.namespace
    body = json.loads(qris_body())
    del body["originalReferenceNo"]
    raw = encode(body)
    for handler in (a, b):
        response = await send_notify(handler, ayolinx_key, clock, raw)
        assert response.status == 200
    assert (a_events.calls, b_events.calls) == (1, 1)

    headers = token_headers(ayolinx_key, clock.stamp(), client_key="CK-merchant-b")
    issued = await b("POST", TOKEN_PATH, headers, token_body())
    b_token = issued.json()["accessToken"]
    va = va_payment_body()
    refused = await send_va_payment(a, b_token, clock, va)
    assert refused.status == 401
    assert refused.json()["responseCode"] == "4012501"


async def test_same_client_key_shares_and_explicit_namespace_wins(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    clock = FakeClock()
    store = MemoryDedupeStore(clock=clock)
    first = make_handler(ayolinx_key, clock, dedupe_store=store)
    second = make_handler(ayolinx_key, clock, dedupe_store=store)
    assert first.namespace == second.namespace
    assert CLIENT_KEY not in first.namespace
    body = qris_body()
    await send_notify(first, ayolinx_key, clock, body)
    assert await second.dedupe_store.get("20250110111212800110166944801931623:00") == "done"
    explicit = make_handler(ayolinx_key, clock, dedupe_store=store, namespace="shop-1")
    assert explicit.namespace == "shop-1"
    assert await explicit.dedupe_store.get("20250110111212800110166944801931623:00") is None
    assert await store.get(f"{first.namespace}:20250110111212800110166944801931623:00") == "done"


# --- E. no token or signature in crash-report frame locals ---------------------------------


def _frames_text(exc: BaseException) -> str:
    rendered = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return "".join(rendered.format())


class _BrokenStore:
    """A dedupe store whose backend is down: every call raises."""

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        raise ConnectionError("dedupe backend unreachable")

    async def get(self, key: str) -> str | None:
        raise ConnectionError("dedupe backend unreachable")

    async def complete(self, key: str, ttl: float) -> None:
        raise ConnectionError("dedupe backend unreachable")

    async def release(self, key: str, owner: str) -> None:
        raise ConnectionError("dedupe backend unreachable")

    async def extend(self, key: str, owner: str, ttl: float) -> bool:
        raise ConnectionError("dedupe backend unreachable")


async def test_crash_report_of_a_va_payment_holds_no_token_or_signature(
    ayolinx_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    """The exception logged for an unexpected failure travels through every handler frame of
    a verified SNAP VA payment (``handle``, ``_va_payment``, ``deliver``); rendered with
    frame locals, as Sentry does, none shows the Bearer token or the signature."""
    clock = FakeClock()
    handler = make_handler(ayolinx_key, clock, dedupe_store=_BrokenStore())
    token = await issue_token(handler, ayolinx_key, clock)
    body = va_payment_body()
    headers = va_payment_headers(token, body, clock.stamp())
    caplog.set_level(logging.ERROR, logger="ayolinx_async")
    response = await handler("POST", VA_PATH, list(headers.items()), body)
    assert response.status == 500
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None
    exc = record.exc_info[1]
    assert exc is not None
    text = _frames_text(exc)
    for frame in ("in _handle", "in _va_payment", "in deliver"):
        assert frame in text  # the handler's frames were rendered, with their locals
    assert token not in text
    assert headers["X-SIGNATURE"] not in text

"""CallbackHandler: every callback type end to end (in process), the attack matrix, dedupe,
failing listeners and concurrency. Runs on asyncio and trio."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._errors import ConfigurationError
from ayolinx_async.callbacks import (
    CallbackHandler,
    CallbackResponse,
    EwalletNotification,
    NotificationKind,
    NotifyRoute,
    PaymentLinkNotification,
    PaymentNotification,
    QrisNotification,
    RetailNotification,
    TokenRoute,
    VaPaymentRequest,
    VaPaymentRoute,
    VirtualAccountNotification,
)
from ayolinx_async.models import Channel, TransactionStatus

from . import _helpers
from ._attacks import NOTIFY_ATTACKS, Attack, bad_signature, signed
from ._helpers import (
    CLIENT_KEY,
    CLIENT_SECRET,
    NOTIFY_PATH,
    TOKEN_PATH,
    VA_PATH,
    FakeClock,
    Recorder,
    encode,
    ewallet_body,
    notify_headers,
    payment_link_body,
    qris_body,
    retail_body,
    token_body,
    token_headers,
    va_notify_body,
    va_payment_body,
    va_payment_headers,
)

pytestmark = pytest.mark.anyio

ACK = b'{"responseCode":"2005600","responseMessage":"Successful"}'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_handler(
    ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> Callable[..., CallbackHandler]:
    def make(**options: Any) -> CallbackHandler:
        options.setdefault("on_event", recorder)
        return _helpers.make_handler(ayolinx_key, clock, **options)

    return make


@pytest.fixture
def handler(make_handler: Callable[..., CallbackHandler]) -> CallbackHandler:
    return make_handler()


def assert_snap_json(response: CallbackResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["responseCode"] == code
    assert isinstance(body["responseMessage"], str)
    assert body["responseMessage"]
    return dict(body)


async def notify(
    handler: CallbackHandler, key: rsa.RSAPrivateKey, body: bytes, clock: FakeClock
) -> CallbackResponse:
    return await handler("POST", NOTIFY_PATH, notify_headers(key, body, clock.stamp()), body)


async def get_token(handler: CallbackHandler, key: rsa.RSAPrivateKey, clock: FakeClock) -> str:
    response = await handler("POST", TOKEN_PATH, token_headers(key, clock.stamp()), token_body())
    assert response.status == 200, response.body
    token = response.json()["accessToken"]
    assert isinstance(token, str)
    return token


# --- every callback type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_body", "event_type", "channel"),
    [
        (qris_body, QrisNotification, Channel.BNC_QRIS),
        (ewallet_body, EwalletNotification, Channel.EMONEY_DANA_SNAP),
        (va_notify_body, VirtualAccountNotification, Channel.VIRTUAL_ACCOUNT_BNI),
        (retail_body, RetailNotification, Channel.RETAIL_ALFAMART),
        (payment_link_body, PaymentLinkNotification, Channel.BNC_QRIS),
    ],
)
async def test_each_notify_is_verified_typed_and_acknowledged(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    make_body: Callable[[], bytes],
    event_type: type,
    channel: Channel,
) -> None:
    body = make_body()
    response = await notify(handler, ayolinx_key, body, clock)
    assert response.status == 200
    assert response.body == ACK
    [event] = recorder.events
    assert type(event) is event_type
    assert event.status is TransactionStatus.SUCCESS
    assert event.channel == channel
    assert event.raw == body
    assert event.path == NOTIFY_PATH
    assert isinstance(event, PaymentNotification)
    assert event.amount is not None
    assert isinstance(event.amount.value, Decimal)


async def test_snap_va_token_then_payment(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    response = await handler(
        "POST", TOKEN_PATH, token_headers(ayolinx_key, clock.stamp()), token_body()
    )
    assert response.status == 200
    answer = json.loads(response.body)
    assert list(answer) == [
        "responseCode",
        "responseMessage",
        "accessToken",
        "tokenType",
        "expiresIn",
    ]
    assert answer["responseCode"] == "2007300"
    assert answer["responseMessage"] == "Successful"
    assert answer["tokenType"] == "Bearer"
    assert answer["expiresIn"] == "900"
    assert len(answer["accessToken"]) >= 32
    body = va_payment_body()
    headers = va_payment_headers(answer["accessToken"], body, clock.stamp())
    paid = await handler("POST", VA_PATH, headers, body)
    reply = assert_snap_json(paid, 200, "2002500")
    assert reply["responseMessage"] == "Successful"
    sent = json.loads(body)
    assert reply["virtualAccountData"] == {k: v for k, v in sent.items() if k != "futureField"}
    assert list(reply["virtualAccountData"])[:3] == [
        "partnerServiceId",
        "customerNo",
        "virtualAccountNo",
    ]
    [event] = recorder.events
    assert isinstance(event, VaPaymentRequest)
    assert event.virtual_account_no == "   8889912345678901234567890"
    assert event.paid_amount is not None
    assert event.paid_amount.value == Decimal("11500.00")
    assert event.external_id == "418075533589"
    assert event.extra == {"futureField": "kept"}


async def test_tokens_are_unique_and_each_one_works(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    tokens = {await get_token(handler, ayolinx_key, clock) for _ in range(5)}
    assert len(tokens) == 5
    for n, token in enumerate(sorted(tokens)):
        body = va_payment_body(payment_request_id=f"PRQ-{n}")
        response = await handler(
            "POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body
        )
        assert response.status == 200


async def test_grant_type_in_camel_case_and_empty_body_are_accepted(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    for body in (b'{"grantType":"client_credentials"}', b"", b"{}"):
        response = await handler(
            "POST", TOKEN_PATH, token_headers(ayolinx_key, clock.stamp()), body
        )
        assert response.status == 200, body


async def test_require_grant_type_rejects_a_body_without_it(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    handler = make_handler(require_grant_type=True)
    response = await handler("POST", TOKEN_PATH, token_headers(ayolinx_key, clock.stamp()), b"{}")
    assert_snap_json(response, 400, "4007302")


async def test_hmac_sha256_needs_configuration(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    body = va_payment_body()
    strict = make_handler()
    token = await get_token(strict, ayolinx_key, clock)
    headers = va_payment_headers(token, body, clock.stamp(), algorithm="sha256")
    assert_snap_json(await strict("POST", VA_PATH, headers, body), 401, "4012500")
    both = make_handler(va_hmac_algorithms=("sha512", "sha256"))
    token = await get_token(both, ayolinx_key, clock)
    for algorithm in ("sha256", "sha512"):
        body = va_payment_body(payment_request_id=algorithm)
        headers = va_payment_headers(token, body, clock.stamp(), algorithm=algorithm)
        assert_snap_json(await both("POST", VA_PATH, headers, body), 200, "2002500")


# --- attack matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attack", "status", "code"),
    [pytest.param(a, s, c, id=name) for name, a, s, c in NOTIFY_ATTACKS],
)
async def test_notify_attacks_are_rejected(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    attack: Attack,
    status: int,
    code: str,
) -> None:
    path, headers, body = attack(ayolinx_key, clock, NOTIFY_PATH)
    response = await handler("POST", path, headers, body)
    assert_snap_json(response, status, code)
    assert recorder.calls == 0


async def test_window_edges_are_inclusive_and_configurable(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    handler = make_handler()
    for n, offset in enumerate((-3600, 3600)):
        body = qris_body(ref=f"edge-{n}")
        headers = notify_headers(ayolinx_key, body, clock.stamp(offset))
        assert (await handler("POST", NOTIFY_PATH, headers, body)).status == 200
    tight = make_handler(timestamp_tolerance=60)
    body = qris_body(ref="tight")
    headers = notify_headers(ayolinx_key, body, clock.stamp(-61))
    assert_snap_json(await tight("POST", NOTIFY_PATH, headers, body), 401, "4015600")


async def test_wrong_http_method_gets_json_405(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    path, headers, body = signed(ayolinx_key, clock)
    response = await handler("GET", path, headers, body)
    assert_snap_json(response, 405, "4055600")
    assert response.headers["allow"] == "POST"
    assert recorder.calls == 0


async def test_headers_are_case_insensitive_and_raw_pairs_work(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, clock.stamp())
    lower = {k.lower(): v for k, v in headers.items()}
    assert (await handler("POST", NOTIFY_PATH, lower, body)).status == 200
    body2 = qris_body(ref="raw-pairs")
    raw = [
        (k.upper().encode(), v.encode())
        for k, v in notify_headers(ayolinx_key, body2, clock.stamp()).items()
    ]
    assert (await handler("POST", NOTIFY_PATH, raw, body2)).status == 200
    assert recorder.calls == 2


async def test_several_public_keys_support_rotation(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    old = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    handler = make_handler(ayolinx_public_keys=[old.public_key(), ayolinx_key.public_key()])
    for n, key in enumerate((old, ayolinx_key)):
        body = qris_body(ref=f"rot-{n}")
        assert (await notify(handler, key, body, clock)).status == 200
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert (await notify(handler, stranger, qris_body(ref="rot-x"), clock)).status == 401


async def test_signed_path_override_for_rewriting_proxies(
    make_handler: Callable[..., CallbackHandler],
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
) -> None:
    # Ayolinx calls https://shop/public/hooks/ayolinx; a proxy forwards it to /internal/notify.
    handler = make_handler(
        routes=[NotifyRoute(path="/internal/notify", signed_path="/public/hooks/ayolinx")]
    )
    body = qris_body()
    signed_public = notify_headers(ayolinx_key, body, clock.stamp(), path="/public/hooks/ayolinx")
    assert (await handler("POST", "/internal/notify", signed_public, body)).status == 200
    signed_internal = notify_headers(
        ayolinx_key, qris_body(ref="x"), clock.stamp(), path="/internal/notify"
    )
    assert (
        await handler("POST", "/internal/notify", signed_internal, qris_body(ref="x"))
    ).status == 401
    assert recorder.calls == 1


# --- token endpoint and bearer attacks ---------------------------------------------------------


async def test_token_endpoint_attacks(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    stamp = clock.stamp()
    good = token_headers(ayolinx_key, stamp)
    cases: list[tuple[str, dict[str, str], bytes, int, str]] = [
        (
            "wrong client key",
            token_headers(ayolinx_key, stamp, client_key="CK-someone-else"),
            token_body(),
            401,
            "4017300",
        ),
        (
            "bad signature",
            {**good, "X-SIGNATURE": good["X-SIGNATURE"][::-1]},
            token_body(),
            401,
            "4017300",
        ),
        (
            "client key swapped after signing",
            {**good, "X-CLIENT-KEY": CLIENT_KEY + "x"},
            token_body(),
            401,
            "4017300",
        ),
        ("stale", token_headers(ayolinx_key, clock.stamp(-7200)), token_body(), 401, "4017300"),
        ("future", token_headers(ayolinx_key, clock.stamp(7200)), token_body(), 401, "4017300"),
        (
            "missing client key",
            {k: v for k, v in good.items() if k != "X-CLIENT-KEY"},
            token_body(),
            400,
            "4007302",
        ),
        (
            "missing signature",
            {k: v for k, v in good.items() if k != "X-SIGNATURE"},
            token_body(),
            400,
            "4007302",
        ),
        ("non-json body", good, b"grant_type=client_credentials", 400, "4007301"),
        ("wrong grant type", good, b'{"grantType":"password"}', 400, "4007301"),
    ]
    for name, headers, body, status, code in cases:
        response = await handler("POST", TOKEN_PATH, headers, body)
        assert response.status == status, name
        assert response.json()["responseCode"] == code, name
        assert "accessToken" not in response.json(), name
    assert len(handler.token_issuer.store) == 0  # type: ignore[arg-type]
    assert recorder.calls == 0


async def test_va_payment_attacks(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    token = await get_token(handler, ayolinx_key, clock)
    body = va_payment_body()
    good = va_payment_headers(token, body, clock.stamp())
    no_auth = {k: v for k, v in good.items() if k != "Authorization"}
    cases: list[tuple[str, dict[str, str], bytes, int, str]] = [
        ("absent bearer", no_auth, body, 401, "4012501"),
        (
            "wrong bearer",
            va_payment_headers("forged-token", body, clock.stamp()),
            body,
            401,
            "4012501",
        ),
        ("basic scheme", {**good, "Authorization": f"Basic {token}"}, body, 401, "4012501"),
        ("empty authorization", {**good, "Authorization": ""}, body, 401, "4012501"),
        ("bare token", {**good, "Authorization": token}, body, 401, "4012501"),
        (
            "bad hmac",
            va_payment_headers(token, body, clock.stamp(), secret="wrong"),
            body,
            401,
            "4012500",
        ),
        (
            "hmac over other path",
            va_payment_headers(token, body, clock.stamp(), path="/v1.0/x"),
            body,
            401,
            "4012500",
        ),
        ("body changed", good, body.replace(b"11500.00", b"11500.01"), 401, "4012500"),
        ("stale", va_payment_headers(token, body, clock.stamp(-3601)), body, 401, "4012500"),
        ("wrong partner id", {**good, "X-PARTNER-ID": "CK-other"}, body, 401, "4012500"),
        (
            "missing timestamp",
            {k: v for k, v in good.items() if k != "X-TIMESTAMP"},
            body,
            400,
            "4002502",
        ),
    ]
    for name, headers, sent, status, code in cases:
        response = await handler("POST", VA_PATH, headers, sent)
        assert response.status == status, name
        assert response.json()["responseCode"] == code, name
    doubled = [*good.items(), ("authorization", "Bearer forged-token")]
    assert_snap_json(await handler("POST", VA_PATH, doubled, body), 400, "4002501")
    bad_body = b'{"paidAmount":{"value":"1.00","currency":"IDR"}}'
    response = await handler(
        "POST", VA_PATH, va_payment_headers(token, bad_body, clock.stamp()), bad_body
    )
    assert_snap_json(response, 400, "4002502")
    not_json = b"paid=yes"
    response = await handler(
        "POST", VA_PATH, va_payment_headers(token, not_json, clock.stamp()), not_json
    )
    assert_snap_json(response, 400, "4002501")
    assert recorder.calls == 0


async def test_expired_bearer_is_rejected(
    make_handler: Callable[..., CallbackHandler],
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
) -> None:
    handler = make_handler(token_ttl=60)
    token = await get_token(handler, ayolinx_key, clock)
    clock.advance(61)
    body = va_payment_body()
    response = await handler("POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body)
    assert_snap_json(response, 401, "4012501")
    assert recorder.calls == 0


async def test_revoked_token_is_rejected(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    token = await get_token(handler, ayolinx_key, clock)
    await handler.token_issuer.revoke(token)
    body = va_payment_body()
    response = await handler("POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body)
    assert_snap_json(response, 401, "4012501")


# --- dedupe, failures, concurrency -------------------------------------------------------------


async def test_replay_is_acknowledged_not_reprocessed(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, clock.stamp())
    for _ in range(3):
        response = await handler("POST", NOTIFY_PATH, headers, body)
        assert response.body == ACK
    # A redelivery signed later (new timestamp) is the same callback too.
    clock.advance(300)
    assert (await notify(handler, ayolinx_key, body, clock)).body == ACK
    assert recorder.calls == 1


async def test_each_status_change_is_its_own_event(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    for status in ("01", "02", "00", "00"):
        assert (await notify(handler, ayolinx_key, qris_body(status=status), clock)).status == 200
    assert [e.status.value for e in recorder.events] == ["01", "02", "00"]


async def test_va_payment_replay_is_echoed_not_reprocessed(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    token = await get_token(handler, ayolinx_key, clock)
    body = va_payment_body()
    first = await handler("POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body)
    again = await handler(
        "POST", VA_PATH, va_payment_headers(token, body, clock.stamp(), external_id="2"), body
    )
    assert first == again
    assert recorder.calls == 1


async def test_failing_listener_gets_500_and_redelivery_is_processed(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    recorder.fail = 2
    body = ewallet_body()
    for _ in range(2):
        failed = await notify(handler, ayolinx_key, body, clock)
        assert_snap_json(failed, 500, "5005601")
        assert b"Traceback" not in failed.body
        assert b"merchant database" not in failed.body
    clock.advance(60)
    assert (await notify(handler, ayolinx_key, body, clock)).body == ACK
    assert (await notify(handler, ayolinx_key, body, clock)).body == ACK
    assert recorder.calls == 3
    assert len(recorder.events) == 1


async def test_failing_va_listener_gets_500_and_redelivery_is_processed(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    recorder.fail = 1
    token = await get_token(handler, ayolinx_key, clock)
    body = va_payment_body()
    failed = await handler("POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body)
    assert_snap_json(failed, 500, "5002501")
    ok = await handler("POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body)
    assert_snap_json(ok, 200, "2002500")
    assert len(recorder.events) == 1


async def test_several_listeners_run_in_order_and_a_failure_retries_all(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    seen: list[str] = []
    flaky = Recorder(fail=1)

    async def first(event: object) -> None:
        seen.append("first")

    async def second(event: object) -> None:
        seen.append("second")
        await flaky(event)  # type: ignore[arg-type]

    handler = make_handler(on_event=[first, second])
    body = retail_body()
    assert (await notify(handler, ayolinx_key, body, clock)).status == 500
    assert (await notify(handler, ayolinx_key, body, clock)).status == 200
    assert seen == ["first", "second", "first", "second"]


async def test_concurrent_duplicates_run_the_listener_once(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    entered = anyio.Event()
    proceed = anyio.Event()
    calls = 0

    async def slow(event: object) -> None:
        nonlocal calls
        calls += 1
        entered.set()
        await proceed.wait()

    handler = make_handler(on_event=slow)
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, clock.stamp())
    results: list[CallbackResponse] = []

    async def deliver() -> None:
        results.append(await handler("POST", NOTIFY_PATH, headers, body))

    async with anyio.create_task_group() as tg:
        tg.start_soon(deliver)
        await entered.wait()
        for _ in range(5):
            await deliver()  # while the first is still running
        proceed.set()
    assert calls == 1
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 409, 409, 409, 409, 409]
    assert results[0].json()["responseCode"] == "4095600"
    assert (await handler("POST", NOTIFY_PATH, headers, body)).body == ACK
    assert calls == 1


async def test_cancelled_delivery_releases_its_claim(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    entered = anyio.Event()
    calls = 0

    async def hang(event: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            entered.set()
            await anyio.sleep_forever()

    handler = make_handler(on_event=hang)
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, clock.stamp())
    async with anyio.create_task_group() as tg:
        tg.start_soon(handler, "POST", NOTIFY_PATH, headers, body)
        await entered.wait()
        tg.cancel_scope.cancel()
    assert (await handler("POST", NOTIFY_PATH, headers, body)).body == ACK
    assert calls == 2


async def test_crashed_worker_lease_expires(
    make_handler: Callable[..., CallbackHandler], ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    handler = make_handler(processing_lease=30)
    body = qris_body()
    # A worker that claimed the key and died without releasing it.
    assert await handler.dedupe_store.claim("20250110111212800110166944801931623:00", "dead", 30)
    assert (await notify(handler, ayolinx_key, body, clock)).status == 409
    clock.advance(31)
    assert (await notify(handler, ayolinx_key, body, clock)).status == 200


async def test_route_kind_hint_and_unknown_products(
    make_handler: Callable[..., CallbackHandler],
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
) -> None:
    handler = make_handler(
        routes=[NotifyRoute(path="/qris", kind=NotificationKind.QRIS), NotifyRoute(path="/any")]
    )
    for n, path in enumerate(("/qris", "/any")):
        body = encode(
            {
                "originalReferenceNo": f"Z{n}",
                "latestTransactionStatus": "09",
                "additionalInfo": {"channel": "NEW_RAIL"},
            }
        )
        headers = notify_headers(ayolinx_key, body, clock.stamp(), path=path)
        assert (await handler("POST", path, headers, body)).status == 200
    qris, unknown = recorder.events
    assert type(qris) is QrisNotification
    assert isinstance(unknown, PaymentNotification)
    assert unknown.kind is NotificationKind.UNKNOWN
    assert unknown.status.value == "09"
    assert not unknown.status.is_known
    assert unknown.channel is not None
    assert unknown.channel.value == "NEW_RAIL"


async def test_secrets_never_in_repr_or_logs(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ayolinx_async")
    token = await get_token(handler, ayolinx_key, clock)
    body = va_payment_body()
    headers = va_payment_headers(token, body, clock.stamp(), secret="wrong")
    await handler("POST", VA_PATH, headers, body)
    path, bad, sent = bad_signature(ayolinx_key, clock)
    await handler("POST", path, bad, sent)
    texts = [
        caplog.text,
        repr(handler),
        repr(handler.verifier),
        repr(handler.token_issuer),
        repr(handler.token_issuer.store),
    ]
    for text in texts:
        assert CLIENT_SECRET not in text
        assert token not in text
        assert headers["X-SIGNATURE"] not in text
        assert bad["X-SIGNATURE"] not in text
    assert "bad_signature" in caplog.text


def test_configuration_errors(ayolinx_key: rsa.RSAPrivateKey, recorder: Recorder) -> None:
    base: dict[str, Any] = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "ayolinx_public_keys": ayolinx_key.public_key(),
        "on_event": recorder,
    }
    bad: list[dict[str, Any]] = [
        {"routes": [NotifyRoute(path="/a"), VaPaymentRoute(path="/a")]},
        {"routes": []},
        {"on_event": []},
        {"client_secret": ""},
        {"timestamp_tolerance": 0},
        {"va_hmac_algorithms": ("md5",)},
        {"token_ttl": 0},
        {"max_body_size": 10},
        {"ayolinx_public_keys": "not a key\nat all"},
        {"ayolinx_public_keys": []},
    ]
    for override in bad:
        with pytest.raises(ConfigurationError):
            CallbackHandler(**{**base, **override})
    with pytest.raises(ConfigurationError):
        NotifyRoute(path="no-slash")
    with pytest.raises(ConfigurationError):
        TokenRoute(path="/token?x=1")


def test_from_env_and_from_credentials(
    ayolinx_key: rsa.RSAPrivateKey, recorder: Recorder, credentials: Any, tmp_path: Any
) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = ayolinx_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    bundle = pem + other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "ayolinx.pem").write_bytes(bundle)
    env = {
        "AYOLINX_CLIENT_KEY": CLIENT_KEY,
        "AYOLINX_CLIENT_SECRET": CLIENT_SECRET,
        "AYOLINX_PUBLIC_KEY_FILE": str(tmp_path / "ayolinx.pem"),
        "AYOLINX_CALLBACK_PATH": "/hooks/ayolinx",
    }
    handler = CallbackHandler.from_env(on_event=recorder, environ=env)
    assert len(handler.verifier.public_keys) == 2
    assert {r.path for r in handler.routes} == {"/hooks/ayolinx", TOKEN_PATH, VA_PATH}
    with pytest.raises(ConfigurationError, match="AYOLINX_PUBLIC_KEY"):
        CallbackHandler.from_env(
            on_event=recorder, environ={"AYOLINX_CLIENT_KEY": "k", "AYOLINX_CLIENT_SECRET": "s"}
        )
    from_creds = CallbackHandler.from_credentials(credentials, on_event=recorder)
    assert (
        from_creds.verifier.public_keys[0].public_numbers()
        == ayolinx_key.public_key().public_numbers()
    )


@pytest.mark.parametrize("finished", [1746249942000, 10**30, "not a time"])
async def test_odd_finished_time_is_acknowledged_not_500(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    finished: object,
) -> None:
    """A signed payment with an unreadable time must still be delivered, not answered 500 until
    Ayolinx gives up."""
    body = json.loads(qris_body())
    body["finishedTime"] = finished
    raw = encode(body)
    response = await notify(handler, ayolinx_key, raw, clock)
    assert response.status == 200, response.body
    assert response.body == ACK
    assert len(recorder.events) == 1


async def test_slow_listener_keeps_its_lease_so_a_redelivery_never_runs_it_twice(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    """The processing lease (here 0.15 s) is renewed while the listener runs (here 0.6 s): a
    redelivery after the original lease would have lapsed still gets 409, and the listener
    runs exactly once."""
    import time

    from ayolinx_async._wire import format_timestamp

    runs = 0
    release = anyio.Event()

    async def slow(event: object) -> None:
        nonlocal runs
        runs += 1
        await release.wait()

    handler = CallbackHandler(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_keys=ayolinx_key.public_key(),
        on_event=slow,
        processing_lease=0.15,
        clock=time.time,
    )
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, format_timestamp(time.time()))
    answers: list[CallbackResponse] = []

    async def deliver() -> None:
        answers.append(await handler("POST", NOTIFY_PATH, headers, body))

    async with anyio.create_task_group() as tg:
        tg.start_soon(deliver)
        await anyio.sleep(0.45)  # three original leases later
        with anyio.fail_after(2):  # a second run would block on `release` here
            second = await handler("POST", NOTIFY_PATH, headers, body)
        assert second.status == 409, second.body
        release.set()
    assert answers[0].status == 200
    third = await handler("POST", NOTIFY_PATH, headers, body)
    assert third.status == 200  # done: acknowledged, not re-run
    assert runs == 1


async def test_memory_dedupe_extend_only_for_the_owner() -> None:
    from ayolinx_async.callbacks import MemoryDedupeStore

    clock = FakeClock()
    store = MemoryDedupeStore(clock=clock)
    assert await store.claim("k", "me", 10)
    clock.now += 8
    assert await store.extend("k", "me", 10)
    assert not await store.extend("k", "someone-else", 10)
    clock.now += 8  # 16 s after the claim: alive only thanks to the renewal
    assert await store.get("k") == "me"
    clock.now += 3
    assert await store.get("k") is None
    assert not await store.extend("k", "me", 10)

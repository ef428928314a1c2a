"""Callback bodies from the wire (issue 12, §2 and §5): hostile numbers are a fast 400 before any
listener runs, every event field parser is total, events carry ``confirmed``, and verification
frames hold no token, signature or string to sign."""

from __future__ import annotations

import gc
import json
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import anyio
import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.callbacks import (
    CallbackHandler,
    CallbackRejected,
    CallbackResponse,
    CallbackVerifier,
    EwalletNotification,
    PaymentLinkNotification,
    PaymentNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
    parse_notification,
    parse_va_payment,
)
from ayolinx_async.callbacks import _verify as verify_module
from ayolinx_async.signing import hmac_signature, service_string_to_sign

from ._helpers import (
    CLIENT_KEY,
    CLIENT_SECRET,
    NOTIFY_PATH,
    TOKEN_PATH,
    VA_PATH,
    FakeClock,
    Recorder,
    encode,
    notify_headers,
    qris_body,
    token_body,
    token_headers,
    va_payment_body,
    va_payment_headers,
)

#: JSON numbers no payment carries; each is also sent as a string.
HOSTILE_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e5000", "1E+999999", "10000.001"]
#: Digits ``str.isdigit`` accepts but ``int``/``float`` refuse (or read as a number: '١٢٣').
UNICODE_DIGITS = ["²", "①", "١٢٣"]
#: Generous, but far below the ~28 s ``1E+999999`` blocked the loop for. Measured in this
#: thread's CPU time: what the parser spends, not how long a loaded CI machine descheduled us.
FAST = 0.1
_PLACEHOLDER = '"@@VALUE@@"'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def handler(
    ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> CallbackHandler:
    return CallbackHandler(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        ayolinx_public_keys=ayolinx_key.public_key(),
        clock=clock,
        on_event=recorder,
    )


def with_literal(raw: bytes, set_field: Callable[[dict[str, Any]], None], literal: str) -> bytes:
    """``raw`` with one field replaced by ``literal`` as raw JSON text (json.dumps cannot write
    ``1E+999999`` or a bare ``NaN`` on purpose)."""
    body = json.loads(raw)
    set_field(body)
    return encode(body).replace(_PLACEHOLDER.encode(), literal.encode())


def set_notify_amount(body: dict[str, Any]) -> None:
    body["amount"]["value"] = _PLACEHOLDER.strip('"')


def set_paid_amount(body: dict[str, Any]) -> None:
    body["paidAmount"]["value"] = _PLACEHOLDER.strip('"')


def as_literals(value: str) -> list[str]:
    """The value as a JSON number and as a JSON string."""
    return [value, json.dumps(value)]


async def send_notify(
    handler: CallbackHandler, key: rsa.RSAPrivateKey, raw: bytes, clock: FakeClock
) -> CallbackResponse:
    return await handler("POST", NOTIFY_PATH, notify_headers(key, raw, clock.stamp()), raw)


async def send_va_payment(
    handler: CallbackHandler, key: rsa.RSAPrivateKey, raw: bytes, clock: FakeClock
) -> CallbackResponse:
    response = await handler("POST", TOKEN_PATH, token_headers(key, clock.stamp()), token_body())
    assert response.status == 200, response.body
    token = response.json()["accessToken"]
    return await handler("POST", VA_PATH, va_payment_headers(token, raw, clock.stamp()), raw)


def _start_clock() -> float:
    """Start timing one refusal: the heap the whole suite built is collected first and the
    collector paused (``_collector_back`` restores it), so what is timed is the parser's work."""
    gc.collect()
    gc.disable()
    return time.thread_time()


@pytest.fixture(autouse=True)
def _collector_back() -> Iterator[None]:
    yield
    gc.enable()


def assert_refused(response: CallbackResponse, code: str, elapsed: float) -> None:
    gc.enable()
    assert response.status == 400, response.body
    assert response.json()["responseCode"] == code
    assert elapsed < FAST, f"took {elapsed:.3f}s"


# --- A. numeric JSON ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("literal", [lit for v in HOSTILE_NUMBERS for lit in as_literals(v)])
async def test_hostile_notify_amount_is_a_fast_400_and_no_listener_runs(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    literal: str,
) -> None:
    raw = with_literal(qris_body(), set_notify_amount, literal)
    started = _start_clock()
    response = await send_notify(handler, ayolinx_key, raw, clock)
    assert_refused(response, "4005601", time.thread_time() - started)
    assert recorder.calls == 0


@pytest.mark.anyio
@pytest.mark.parametrize("literal", [lit for v in HOSTILE_NUMBERS for lit in as_literals(v)])
async def test_hostile_va_paid_amount_is_a_fast_400_and_no_listener_runs(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    literal: str,
) -> None:
    raw = with_literal(va_payment_body(), set_paid_amount, literal)
    response = await handler(
        "POST", TOKEN_PATH, token_headers(ayolinx_key, clock.stamp()), token_body()
    )
    token = response.json()["accessToken"]
    headers = va_payment_headers(token, raw, clock.stamp())
    started = _start_clock()
    response = await handler("POST", VA_PATH, headers, raw)
    assert_refused(response, "4002501", time.thread_time() - started)
    assert recorder.calls == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "literal",
    ["NaN", "-Infinity", "1E+999999", "1e-99999", pytest.param("9" * 5000, id="5000-digits")],
)
async def test_hostile_number_anywhere_in_the_body_is_a_fast_400(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    literal: str,
) -> None:
    def set_extra(body: dict[str, Any]) -> None:
        body["additionalInfo"]["someCounter"] = _PLACEHOLDER.strip('"')

    raw = with_literal(qris_body(), set_extra, literal)
    started = _start_clock()
    response = await send_notify(handler, ayolinx_key, raw, clock)
    assert_refused(response, "4005601", time.thread_time() - started)
    assert recorder.calls == 0


@pytest.mark.anyio
async def test_lone_surrogate_is_a_400_not_an_unencodable_answer(
    handler: CallbackHandler, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock, recorder: Recorder
) -> None:
    def set_name(body: dict[str, Any]) -> None:
        body["virtualAccountName"] = _PLACEHOLDER.strip('"')

    raw = with_literal(va_payment_body(), set_name, '"\\ud800"')
    response = await send_va_payment(handler, ayolinx_key, raw, clock)
    assert response.status == 400, response.body
    assert recorder.calls == 0


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("11500", "11500"), ("11500.5", "11500.5"), ("11500.00", "11500.00"), ('"1,500.00"', "1500")],
)
def test_plain_amounts_still_parse_as_numbers_and_strings(literal: str, expected: str) -> None:
    """docs/protocol.md §7: some integrations send the amount as a JSON number; that
    is tolerated."""
    event = parse_va_payment(with_literal(va_payment_body(), set_paid_amount, literal))
    assert event.paid_amount is not None
    assert event.paid_amount.value == Decimal(expected)


@pytest.mark.parametrize(
    "value", ["-1", "1,2345.00", "12345678901234", "1.5e3", " ", "١٢٣", "²", {"v": 1}, True]
)
def test_unusable_paid_amounts_are_refused(value: object) -> None:
    body = json.loads(va_payment_body())
    body["paidAmount"]["value"] = value
    with pytest.raises(CallbackRejected) as info:
        parse_va_payment(encode(body))
    assert (info.value.http_status, info.value.case_code, info.value.reason) == (
        400,
        "01",
        "bad_amount",
    )
    assert "paidAmount" in info.value.message


# --- B. total parsing ----------------------------------------------------------------------------


def _set(path: tuple[str, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        target = body
        for name in path[:-1]:
            target = target[name]
        target[path[-1]] = value

    return apply


@pytest.mark.anyio
@pytest.mark.parametrize("text", UNICODE_DIGITS)
@pytest.mark.parametrize(
    ("path", "attribute"),
    [
        (("finishedTime",), "finished_time"),
        (("additionalInfo", "feeMoney", "value"), "fee"),
        (("additionalInfo", "feeMoney"), "fee"),
    ],
)
async def test_unreadable_optional_notify_field_is_delivered_as_none(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    text: str,
    path: tuple[str, ...],
    attribute: str,
) -> None:
    body = json.loads(qris_body())
    _set(path, text)(body)
    raw = encode(body)
    response = await send_notify(handler, ayolinx_key, raw, clock)
    assert response.status == 200, response.body
    (event,) = recorder.events
    assert getattr(event, attribute) is None
    assert event.raw == raw  # the raw text stays on the event


@pytest.mark.anyio
@pytest.mark.parametrize("value", [*UNICODE_DIGITS, "2025-02-2\u0667T10:00:00+07:00", [], {"t": 1}])
async def test_unreadable_va_payment_time_is_delivered_as_none(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    value: object,
) -> None:
    body = json.loads(va_payment_body())
    body["additionalInfo"]["paymentTimeIso8601"] = value
    response = await send_va_payment(handler, ayolinx_key, encode(body), clock)
    assert response.status == 200, response.body
    (event,) = recorder.events
    assert isinstance(event, VaPaymentRequest)
    assert event.payment_time is None


@pytest.mark.parametrize("value", [*UNICODE_DIGITS, "1E+60", 1e60, 10**40])
def test_odd_finished_times_never_raise(value: object) -> None:
    body = json.loads(qris_body())
    body["finishedTime"] = value
    assert parse_notification(encode(body)).finished_time is None


def test_ascii_epoch_seconds_still_parse() -> None:
    body = json.loads(qris_body())
    body["finishedTime"] = "1736482360"
    finished = parse_notification(encode(body)).finished_time
    assert isinstance(finished, datetime)
    assert finished.timestamp() == 1736482360


@pytest.mark.anyio
@pytest.mark.parametrize("text", UNICODE_DIGITS)
@pytest.mark.parametrize(
    "path",
    [
        ("latestTransactionStatus",),
        ("originalReferenceNo",),
        ("originalPartnerReferenceNo",),
        ("amount", "value"),
        ("amount", "currency"),
    ],
)
async def test_unusable_mandatory_notify_field_is_a_400(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    text: str,
    path: tuple[str, ...],
) -> None:
    body = json.loads(qris_body())
    _set(path, text)(body)
    response = await send_notify(handler, ayolinx_key, encode(body), clock)
    assert response.status == 400, response.body
    assert response.json()["responseCode"] == "4005601"
    assert path[0] in response.json()["responseMessage"]
    assert recorder.calls == 0


@pytest.mark.anyio
@pytest.mark.parametrize("text", UNICODE_DIGITS)
@pytest.mark.parametrize(
    "path",
    [("virtualAccountNo",), ("paymentRequestId",), ("trxId",), ("paidAmount", "value")],
)
async def test_unusable_mandatory_va_payment_field_is_a_400(
    handler: CallbackHandler,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    recorder: Recorder,
    text: str,
    path: tuple[str, ...],
) -> None:
    body = json.loads(va_payment_body())
    _set(path, text)(body)
    response = await send_va_payment(handler, ayolinx_key, encode(body), clock)
    assert response.status == 400, response.body
    assert response.json()["responseCode"] == "4002501"
    assert path[0] in response.json()["responseMessage"]
    assert recorder.calls == 0


@pytest.mark.parametrize(
    "timestamp",
    [
        "\u0662\u0660\u0662\u0665-01-10T11:12:40+07:00",
        "2025-01-10T11:12:40+\u0660\u0667\u0660\u0660",
    ],
)
def test_non_ascii_x_timestamp_is_a_typed_400(
    ayolinx_key: rsa.RSAPrivateKey, timestamp: str
) -> None:
    verifier = CallbackVerifier(ayolinx_key.public_key())
    with pytest.raises(CallbackRejected) as info:
        verifier.check_timestamp({"X-TIMESTAMP": timestamp})
    assert info.value.reason == "bad_timestamp"


# --- C. confirmed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        PaymentNotification,
        QrisNotification,
        EwalletNotification,
        VirtualAccountNotification,
        RetailNotification,
        PaymentLinkNotification,
        VaPaymentRequest,
    ],
)
def test_every_event_class_has_a_confirmed_flag_defaulting_to_false(cls: type[Any]) -> None:
    field = attrs.fields_dict(cls)["confirmed"]
    assert field.default is False
    assert field.kw_only


def test_confirmed_is_set_with_evolve_and_parsing_leaves_it_false() -> None:
    event = parse_notification(qris_body())
    assert event.confirmed is False
    confirmed = attrs.evolve(event, confirmed=True)
    assert confirmed.confirmed is True
    assert type(confirmed) is QrisNotification
    assert "confirmed=True" in repr(confirmed)
    assert "Jokul" not in repr(confirmed)  # payer data stays off the repr
    payment = attrs.evolve(parse_va_payment(va_payment_body()), confirmed=True)
    assert payment.confirmed is True
    assert "Jokul" not in repr(payment)


# --- D. secrets in frames ------------------------------------------------------------------------

TOKEN = "merchant-issued-token-7f3c9e1d2b4a6f8e0c"


def _locals_text(exc: BaseException) -> str:
    """The exception as a crash reporter renders it, from the SDK frame inwards (the test's
    own frame, which holds the raw headers it built, is skipped)."""
    assert exc.__traceback__ is not None
    report = traceback.TracebackException(
        type(exc), exc, exc.__traceback__.tb_next, capture_locals=True
    )
    return "".join(report.format())


def _secret_texts(raw: bytes, timestamp: str) -> list[str]:
    message = service_string_to_sign("POST", VA_PATH, TOKEN, raw, timestamp)
    return [
        TOKEN,
        CLIENT_SECRET,
        message,
        hmac_signature(CLIENT_SECRET, message, "sha512"),
        hmac_signature(CLIENT_SECRET, message, "sha256"),
    ]


def _assert_hidden(text: str, secrets: list[str]) -> None:
    assert "Bearer" not in text
    for secret in secrets:
        assert secret not in text


@pytest.fixture
def verifier(ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock) -> CallbackVerifier:
    return CallbackVerifier(ayolinx_key.public_key(), client_secret=CLIENT_SECRET, clock=clock)


def test_bad_signature_traceback_locals_hold_no_secret(
    verifier: CallbackVerifier, clock: FakeClock
) -> None:
    raw = va_payment_body()
    timestamp = clock.stamp()
    headers = va_payment_headers(TOKEN, raw, timestamp, secret="not-the-client-secret")
    with pytest.raises(CallbackRejected) as info:
        verifier.verify_service_signature(
            path=VA_PATH, access_token=TOKEN, headers=headers, body=raw
        )
    assert info.value.reason == "bad_signature"
    _assert_hidden(
        _locals_text(info.value), [*_secret_texts(raw, timestamp), headers["X-SIGNATURE"]]
    )


def test_stale_timestamp_traceback_locals_hold_no_secret(
    verifier: CallbackVerifier, clock: FakeClock
) -> None:
    raw = va_payment_body()
    timestamp = clock.stamp(-7200)
    headers = va_payment_headers(TOKEN, raw, timestamp)
    with pytest.raises(CallbackRejected) as info:
        verifier.verify_service_signature(
            path=VA_PATH, access_token=TOKEN, headers=headers, body=raw
        )
    assert info.value.reason == "stale_timestamp"
    _assert_hidden(
        _locals_text(info.value), [*_secret_texts(raw, timestamp), headers["X-SIGNATURE"]]
    )


def test_crash_after_a_matching_hmac_shows_no_secret_in_locals(
    verifier: CallbackVerifier, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error on the success path (here: right after the HMAC matched)."""
    real = verify_module.verify_hmac  # type: ignore[attr-defined]

    def crash_after(secret: str, message: str, signature: str, algorithm: str) -> bool:
        assert real(secret, message, signature, algorithm)
        raise RuntimeError("crash reporter fodder")

    monkeypatch.setattr(verify_module, "verify_hmac", crash_after)
    raw = va_payment_body()
    timestamp = clock.stamp()
    headers = va_payment_headers(TOKEN, raw, timestamp)
    with pytest.raises(RuntimeError) as info:
        verifier.verify_service_signature(
            path=VA_PATH, access_token=TOKEN, headers=headers, body=raw
        )
    text = _locals_text(info.value)
    assert "verify_service_signature" in text
    assert "access_token" in text
    _assert_hidden(text, [*_secret_texts(raw, timestamp), headers["X-SIGNATURE"]])


def test_notify_bad_signature_locals_hold_no_signature(
    verifier: CallbackVerifier, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    raw = qris_body()
    headers = notify_headers(ayolinx_key, raw, clock.stamp(), path="/elsewhere")
    with pytest.raises(CallbackRejected) as info:
        verifier.verify_notification(path=NOTIFY_PATH, headers=headers, body=raw)
    assert headers["X-SIGNATURE"] not in _locals_text(info.value)


# --- Starlette Content-Length ------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("declared", "limit", "expected"),
    [
        ("²", 1024, b'{"a":1}'),
        ("¹²³", 1024, b'{"a":1}'),
        ("2³", 1, None),
        pytest.param("9" * 5000, 1024, None, id="5000-digits"),
        pytest.param("0" * 30 + "7", 1024, b'{"a":1}', id="leading-zeros"),
        ("4096", 1024, None),
    ],
)
async def test_starlette_content_length_is_read_as_ascii_digits_only(
    declared: str, limit: int, expected: bytes | None
) -> None:
    pytest.importorskip("starlette")
    from starlette.requests import Request

    from ayolinx_async.integrations.starlette import read_body

    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await anyio.sleep_forever()
        sent = True
        return {"type": "http.request", "body": b'{"a":1}', "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": NOTIFY_PATH,
        "headers": [(b"content-length", declared.encode("latin-1"))],
    }
    assert await read_body(Request(scope, receive), limit) == expected

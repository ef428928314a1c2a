"""Each shortcut on the callback path (issue 15) answers exactly what the general way answers,
on hostile input too: the JSON scan, raw header pairs, the status and paid-amount readers, the
dedupe claim, and the ASGI app's answer headers and Content-Length check."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from ayolinx_async._asgi_body import BodyTooLarge, ClientDisconnected, read_body
from ayolinx_async._errors import CallbackRejected
from ayolinx_async.callbacks import (
    CallbackEvent,
    MemoryDedupeStore,
    QrisNotification,
    parse_notification,
)
from ayolinx_async.callbacks._answers import (
    NOTIFY_ACK,
    CallbackResponse,
    error_response,
    header_pairs,
)
from ayolinx_async.callbacks._event_fields import (
    _paid_amount,
    event_status,
    identifier,
    paid_amount,
)
from ayolinx_async.callbacks._event_json import decode_json_object
from ayolinx_async.callbacks._verify import Headers
from ayolinx_async.integrations.asgi import _read_body as _asgi_read_body
from ayolinx_async.models._enums import TransactionStatus
from ayolinx_async.models._fields import Unreadable
from ayolinx_async.models._parsers import parse_status

from ._helpers import NOTIFY_PATH, FakeClock, make_handler, notify_headers, qris_body, send_notify

AGREE = settings(max_examples=400, deadline=None)


# --- JSON: the object scan at 0 against json.loads ------------------------------------------


def _decoded(body: bytes | bytearray) -> tuple[str, Any]:
    """What decode_json_object answers: the object, or the refusal's message."""
    try:
        return ("value", decode_json_object(body))  # type: ignore[arg-type]
    except CallbackRejected as exc:
        return ("refused", exc.message)


def _both(body: bytes) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """The object scan (bytes opening with ``{``) and the general way (the same bytes as a
    bytearray go through json.loads)."""
    return _decoded(body), _decoded(bytearray(body))


_JSON_PIECES = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        '"a"',
        '"\\ud800"',
        "1",
        "-0",
        "1.50",
        "1e999",
        "9" * 70,
        "NaN",
        "Infinity",
        "true",
        "null",
        " ",
        "\t",
        "\n",
        "\r",
        "\x0b",
        "\x0c",
        "\xa0",
        "\u2028",
        "\x00",
        "\x85",
    ]
)
_JSON_LIKE = st.lists(_JSON_PIECES, max_size=12).map("".join)


@AGREE
@given(
    opening=st.sampled_from(["{", "{}", '{"a":1}', '{"v":1.5}']),
    rest=st.one_of(_JSON_LIKE, st.text(max_size=20)),
    encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
)
def test_the_object_scan_agrees_with_json_loads(opening: str, rest: str, encoding: str) -> None:
    """Bodies opening with ``{``: trailing whitespace of every kind (JSON's four and others),
    extra data, NaN, long numbers, lone surrogates, other encodings."""
    try:
        body = (opening + rest).encode(encoding, "surrogatepass")
    except UnicodeEncodeError:
        body = (opening + rest).encode("utf-8", "surrogatepass")
    fast, general = _both(body)
    assert fast == general


@AGREE
@given(body=st.binary(max_size=40))
def test_any_bytes_read_as_json_loads_reads_them(body: bytes) -> None:
    for sent in (b"{" + body, body):
        fast, general = _both(sent)
        assert fast == general


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":}',
        b'{"a":1,}',
        b'{"a" 1}',
        b"{",
        b'{"a":[}',
        b'{"a":{"b":}}',
        b'{"a":1}x',
        b'{"a":NaN}',
        b'{"a":1e99999}',
        b'{"a":"\\ud800"}',
        b'{"a":1}\n',
        b"{}" + b"\x00",
        b"{\x00}",
        b'{"a":"\xff"}',
    ],
)
def test_each_malformed_object_is_refused_as_json_loads_refuses_it(body: bytes) -> None:
    fast, general = _both(body)
    assert fast == general


def test_only_json_whitespace_may_follow_the_object() -> None:
    assert decode_json_object(b'{"a":1} \t\r\n') == {"a": 1}
    for tail in (b"\x0b", b"\x0c", "\u00a0".encode(), "\u2028".encode(), b"x", b"{}"):
        assert _decoded(b'{"a":1}' + tail) == ("refused", "Invalid Field Format body is not JSON")
    big = b'{"a":' + b"9" * 70 + b"}"
    assert _decoded(big) == (
        "refused",
        "Invalid Field Format body has a non-finite or out-of-range number",
    )


# --- Raw header pairs against the general reading ------------------------------------------

_NAMES = st.sampled_from(
    [
        b"x-signature",
        b"X-Signature",
        b"x-timestamp",
        b"X-TIMESTAMP",
        b" x-signature",
        b"x-signature\t",
        b"x-signature\x85",
        b"\xa0x-timestamp",
        b"x-timestamp\x1f",
        b"x-sign ature",
        b"content-length",
        b"Content-Length",
        b"x-\xc0",
        b"x-\xe0",
        b"123",
        b"",
    ]
)
_VALUES = st.one_of(
    st.sampled_from([b"", b"  ", b"sig", b" sig ", b"\x85sig\xa0", b"12", b"\xb2"]),
    st.binary(max_size=6),
)
_LOOKUPS = ("X-SIGNATURE", "x-signature", "X-TIMESTAMP", "Content-Length", "X-PARTNER-ID")


def _reads(view: Headers) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    for name in _LOOKUPS:
        try:
            one: Any = view.one(name)
        except CallbackRejected as exc:
            one = exc.reason
        seen.append((name, (view.get(name), view.values(name), name in view, one)))
    return seen


@AGREE
@given(pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=6))
def test_raw_pairs_read_as_the_general_way_reads_them(pairs: list[tuple[bytes, bytes]]) -> None:
    """A list (the raw shortcut when names are distinct, lower-case-able and space-free) and a
    generator of the same pairs (always the general way) answer every lookup alike: a name
    repeated in another case or with surrounding whitespace is refused, never one value
    picked."""
    assert _reads(Headers(pairs)) == _reads(Headers(pair for pair in pairs))
    assert _reads(Headers(tuple(pairs))) == _reads(Headers(pair for pair in pairs))


def test_a_name_padded_with_whitespace_counts_as_a_repeat() -> None:
    pairs = [(b"x-signature", b"good"), (b"x-signature ", b"other")]
    with pytest.raises(CallbackRejected) as info:
        Headers(pairs).one("X-SIGNATURE")
    assert info.value.reason == "duplicate_header"


# --- Field readers: the shortcut against the general reading -------------------------------


def _general_status(value: object) -> TransactionStatus | None:
    """``event_status`` without its known-code lookup."""
    text = identifier(value)
    if text is None:
        return None
    return parse_status(value) or TransactionStatus(text.strip())


def _status_outcome(read: Any, value: object) -> tuple[Any, ...]:
    try:
        status = read(value)
    except Unreadable as exc:
        return ("unreadable", exc.reason)
    return ("value", status, None if status is None else (status.value, status.is_known))


_STATUS_TEXT = [
    "00",
    "07",
    "0",
    " 00",
    "00 ",
    "\t00",
    "\x8500",
    "\u0660\u0660",
    "",
    "  ",
    "08",
    "00\x00",
]
_STATUS_VALUES = st.one_of(
    st.sampled_from(_STATUS_TEXT),
    st.text(max_size=4),
    st.integers(min_value=-10, max_value=10**20),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=True),
    st.floats(),
)


@pytest.mark.parametrize("value", [*_STATUS_TEXT, 0, 7, True, None, Decimal("0"), 0.0])
def test_each_status_spelling_reads_as_the_general_reading(value: object) -> None:
    assert _status_outcome(event_status, value) == _status_outcome(_general_status, value)


@AGREE
@given(value=_STATUS_VALUES)
def test_the_known_status_lookup_agrees_with_the_general_reading(value: object) -> None:
    assert _status_outcome(event_status, value) == _status_outcome(_general_status, value)


def _amount_outcome(read: Any, data: object) -> tuple[Any, ...]:
    try:
        amount = read(data)
    except Unreadable as exc:
        return ("unreadable", exc.reason, exc.suffix)
    if amount is None:
        return ("none",)
    # Decimal("1.0") == Decimal("1.00"): compare the digits as read, too.
    return ("value", amount, str(amount.value), amount.currency)


_AMOUNT_SPELLINGS = [
    "10000.00",
    "10000",
    "0",
    "0.00",
    "00010000.5",
    "1" * 13,
    "1" * 14,
    "1" * 13 + ".99",
    "0" * 13 + "1",
    "-1.00",
    "+1.00",
    "1.001",
    "1.",
    ".5",
    " 1.00",
    "1.00 ",
    "1e3",
    "1_000",
    "\u0661\u0662",
    "NaN",
    "",
]
_CURRENCIES = ["IDR", "idr", " IDR", "USD", "", None, 360]
_AMOUNT_TEXT = st.one_of(
    st.sampled_from(_AMOUNT_SPELLINGS),
    st.from_regex(r"[0-9]{0,16}(\.[0-9]{0,3})?", fullmatch=True),
)
_AMOUNTS = st.one_of(
    st.builds(
        lambda value, currency: {"value": value, "currency": currency},
        st.one_of(_AMOUNT_TEXT, st.integers(), st.decimals(allow_nan=True), st.none()),
        st.sampled_from(_CURRENCIES),
    ),
    st.builds(lambda value: {"value": value}, _AMOUNT_TEXT),
    st.none(),
    st.text(max_size=5),
    st.integers(),
)


@pytest.mark.parametrize("currency", _CURRENCIES)
@pytest.mark.parametrize("value", _AMOUNT_SPELLINGS)
def test_each_amount_spelling_reads_as_the_general_reading(value: str, currency: object) -> None:
    data = {"value": value, "currency": currency}
    assert _amount_outcome(paid_amount, data) == _amount_outcome(_paid_amount, data)


@AGREE
@given(data=_AMOUNTS)
def test_the_paid_amount_shortcut_agrees_with_the_general_reading(data: object) -> None:
    assert _amount_outcome(paid_amount, data) == _amount_outcome(_paid_amount, data)


def test_the_paid_amount_shortcut_keeps_the_digits_sent() -> None:
    amount = paid_amount({"value": "00010000.50", "currency": "IDR"})
    assert amount is not None
    assert (str(amount.value), amount.value) == ("10000.50", Decimal("10000.5"))


# --- Dedupe claim: one clock reading, the same answers --------------------------------------


@pytest.mark.anyio
async def test_a_claim_takes_an_expired_key_and_refuses_a_live_one() -> None:
    clock = FakeClock(now=1000.0)
    store = MemoryDedupeStore(clock=clock)
    assert await store.claim("k", "first", 30)
    clock.advance(29.999)
    assert not await store.claim("k", "second", 30)
    assert await store.get("k") == "first"
    clock.advance(0.001)  # the lease ends at 1030.0 exactly: expired
    assert await store.claim("k", "second", 30)
    assert await store.get("k") == "second"
    await store.complete("k", 100)
    clock.advance(99)
    assert not await store.claim("k", "third", 30)
    assert await store.get("k") == "done"


@pytest.mark.anyio
async def test_claims_still_sweep_expired_entries() -> None:
    clock = FakeClock(now=1000.0)
    store = MemoryDedupeStore(clock=clock)
    for n in range(50):
        assert await store.claim(f"k{n}", "o", 5)
    clock.advance(120)
    assert await store.claim("fresh", "o", 5)
    assert len(store._entries._data) == 1  # swept, not merely hidden


# --- ASGI answer headers -------------------------------------------------------------------


def test_the_ack_headers_are_a_fresh_list_equal_to_the_general_ones() -> None:
    general = CallbackResponse(NOTIFY_ACK.status, dict(NOTIFY_ACK.headers), NOTIFY_ACK.body)
    first, second = header_pairs(NOTIFY_ACK), header_pairs(NOTIFY_ACK)
    assert first == header_pairs(general) == second
    assert first is not second  # a server may keep or extend the list it is given
    first.append((b"x", b"y"))
    assert header_pairs(NOTIFY_ACK) == second
    assert header_pairs(error_response(400, "4005601", "Bad")) != first


# --- Dedupe: the memory store used directly against the same store awaited -----------------


class _Delegating:
    """A :class:`MemoryDedupeStore` behind a wrapper: the handler awaits every method."""

    def __init__(self, clock: FakeClock) -> None:
        self.inner = MemoryDedupeStore(clock=clock)
        self.calls: list[str] = []

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        self.calls.append("claim")
        return await self.inner.claim(key, owner, ttl)

    async def get(self, key: str) -> str | None:
        return await self.inner.get(key)

    async def complete(self, key: str, ttl: float) -> None:
        self.calls.append("complete")
        await self.inner.complete(key, ttl)

    async def release(self, key: str, owner: str) -> None:
        await self.inner.release(key, owner)

    async def extend(self, key: str, owner: str, ttl: float) -> bool:
        return await self.inner.extend(key, owner, ttl)


class _CountingMemory(MemoryDedupeStore):
    """A subclass: its overrides must be awaited, not bypassed."""

    __slots__ = ("claims",)

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.claims = 0

    async def claim(self, key: str, owner: str, ttl: float) -> bool:
        self.claims += 1
        return await super().claim(key, owner, ttl)


async def _dedupe_story(
    ayolinx_key: rsa.RSAPrivateKey, store: object
) -> tuple[list[int], list[str], dict[str, str | None]]:
    """Statuses of one scripted sequence: many concurrent first deliveries with duplicates
    among them, a failing listener and its redelivery, a hung one (409 while it runs, 504 at
    the timeout), then a duplicate of each."""
    clock = FakeClock(now=1_750_000_000.0)
    ran: list[str] = []
    hold = anyio.Event()

    async def listener(event: CallbackEvent) -> None:
        assert isinstance(event, QrisNotification)
        ran.append(event.reference)
        if event.reference == "FAILS" and ran.count("FAILS") == 1:
            raise RuntimeError("listener failed")
        if event.reference == "HANGS":
            await hold.wait()

    options: dict[str, Any] = {"on_event": listener, "listener_timeout": 0.2}
    if store is not None:
        options["dedupe_store"] = store
    handler = make_handler(ayolinx_key, clock, **options)
    statuses: dict[int, int] = {}

    async def send(index: int, ref: str) -> None:
        statuses[index] = (await send_notify(handler, ayolinx_key, clock, qris_body(ref))).status

    refs = [f"REF{n % 40}" for n in range(120)]  # each key three times, concurrently
    async with anyio.create_task_group() as tg:
        for index, ref in enumerate(refs):
            tg.start_soon(send, index, ref)
    hung: list[int] = []

    async def hang() -> None:
        hung.append((await send_notify(handler, ayolinx_key, clock, qris_body("HANGS"))).status)

    async with anyio.create_task_group() as tg:
        tg.start_soon(hang)
        await anyio.sleep(0.05)
        hung.append((await send_notify(handler, ayolinx_key, clock, qris_body("HANGS"))).status)
    story = [statuses[index] for index in range(len(refs))] + hung
    for ref in ("FAILS", "FAILS", "FAILS", "HANGS", "REF0"):
        story.append((await send_notify(handler, ayolinx_key, clock, qris_body(ref))).status)
    hold.set()
    keys = [f"A1{ref}:00" for ref in ("REF0", "FAILS", "HANGS")]
    dedupe = handler.dedupe_store
    return story, sorted(ran), {key: await dedupe.get(key) for key in keys}


@pytest.mark.anyio
async def test_the_memory_store_used_directly_answers_as_when_awaited(
    ayolinx_key: rsa.RSAPrivateKey,
) -> None:
    delegating = _Delegating(FakeClock(now=1_750_000_000.0))
    direct = await _dedupe_story(ayolinx_key, None)
    awaited = await _dedupe_story(ayolinx_key, delegating)
    assert direct == awaited
    statuses = direct[0]
    assert statuses[:120].count(200) == 120  # a finished duplicate is acknowledged
    assert statuses[120:] == [409, 504, 500, 200, 200, 504, 200]
    assert delegating.calls.count("claim") == 127
    assert delegating.calls.count("complete") == 40 + 1  # each key once, and FAILS' redelivery


@pytest.mark.anyio
async def test_a_memory_store_subclass_is_awaited(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock = FakeClock(now=1_750_000_000.0)
    store = _CountingMemory(clock)
    handler = make_handler(ayolinx_key, clock, dedupe_store=store)
    for _ in range(2):
        assert (await send_notify(handler, ayolinx_key, clock, qris_body("SUB"))).status == 200
    assert store.claims == 2


# --- Events: the decoded body kept, a caller's mapping copied --------------------------------


@pytest.mark.parametrize("ref", ["ORD-1", ""])
def test_a_parsed_event_equals_the_one_built_from_the_decoded_body(ref: str) -> None:
    raw = qris_body(ref=ref) if ref else qris_body()
    decoded = json.loads(raw, parse_float=Decimal)
    parsed = parse_notification(raw, path="/p", timestamp="t")
    built = QrisNotification.from_body(decoded, raw=raw, path="/p", timestamp="t")
    assert parsed == built
    assert parsed.body == decoded
    assert built.body is not decoded  # a caller's mapping is copied, never kept
    decoded["latestTransactionStatus"] = "06"
    assert built.body["latestTransactionStatus"] == "00"


# --- ASGI: the body read in one message against read_body ----------------------------------

_MESSAGES = st.lists(
    st.one_of(
        st.builds(
            lambda body, more, kind: {
                "type": "http.request",
                "body": kind(body),
                "more_body": more,
            },
            st.binary(max_size=12),
            st.booleans(),
            st.sampled_from([bytes, bytearray]),
        ),
        st.builds(lambda body: {"type": "http.request", "body": body}, st.binary(max_size=12)),
        st.just({"type": "http.request"}),
        st.just({"type": "http.disconnect"}),
        st.just({"type": "http.other", "body": b"x"}),
    ),
    min_size=1,
    max_size=4,
)


async def _body_outcome(read: Any, messages: list[dict[str, Any]], limit: int) -> tuple[Any, ...]:
    pending = [dict(message) for message in reversed(messages)]

    async def receive() -> dict[str, Any]:
        if not pending:
            raise LookupError("read past the last message")
        return pending.pop()

    try:
        body = await read(receive, limit)
    except (BodyTooLarge, ClientDisconnected, LookupError) as exc:
        return ("error", type(exc).__name__, len(pending))
    return ("body", type(body).__name__, body, len(pending))


@AGREE
@given(messages=_MESSAGES, limit=st.integers(min_value=0, max_value=20))
def test_the_asgi_body_read_agrees_with_read_body(
    messages: list[dict[str, Any]], limit: int
) -> None:
    """Whole in one message, in several, cut by a disconnect, over the limit at any point,
    chunks as bytearray: the same body (always bytes) or the same refusal, and as many
    messages left unread."""

    async def both() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return (
            await _body_outcome(_asgi_read_body, messages, limit),
            await _body_outcome(read_body, messages, limit),
        )

    fast, general = anyio.run(both)
    assert fast == general


# --- The handler's answer awaited by an integration against handle() ----------------------


@pytest.mark.anyio
async def test_the_integrations_answer_is_handles_answer(ayolinx_key: rsa.RSAPrivateKey) -> None:
    clock = FakeClock(now=1_750_000_000.0)
    handlers = [make_handler(ayolinx_key, clock) for _ in range(2)]
    body = qris_body("ANSWER")
    signed = notify_headers(ayolinx_key, body, clock.stamp())
    forged = {
        **signed,
        "X-SIGNATURE": notify_headers(ayolinx_key, b"{}", clock.stamp())["X-SIGNATURE"],
    }
    requests: list[tuple[str, str, dict[str, str], bytes]] = [
        ("POST", NOTIFY_PATH, signed, body),
        ("POST", NOTIFY_PATH, signed, body),  # a duplicate
        ("POST", NOTIFY_PATH, forged, body),
        ("GET", NOTIFY_PATH, signed, body),
        ("POST", "/elsewhere", signed, body),
        ("POST", NOTIFY_PATH, notify_headers(ayolinx_key, b"{{{", clock.stamp()), b"{{{"),
    ]
    answers: list[list[tuple[int, bytes]]] = [[], []]
    for method, path, headers, payload in requests:
        via_answer = await handlers[0]._answer(method, path, Headers(headers), payload, None)
        via_handle = await handlers[1].handle(method, path, headers, payload)
        answers[0].append((via_answer.status, via_answer.body))
        answers[1].append((via_handle.status, via_handle.body))
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[0]] == [200, 200, 401, 405, 404, 400]


@pytest.mark.parametrize("status", [*(s.value for s in TransactionStatus), "99", "X1", "0 0"])
def test_the_dedupe_key_holds_the_status_value(status: str) -> None:
    """The key formats the status itself (a StrEnum formats as its value), for documented
    and unknown codes alike."""
    body = json.loads(qris_body(ref="KEY-1"))
    body["latestTransactionStatus"] = status
    event = parse_notification(json.dumps(body).encode())
    assert event.dedupe_key == f"{event.original_reference_no}:{event.status.value}"
    assert event.dedupe_key.endswith(":" + status)

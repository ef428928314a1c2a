"""The fault matrix: every failure a gateway can produce, its typed outcome and exact attempt count.

Each case runs twice: a read-only call (``client.qris.query``, retried on transient faults) and a
money-moving call (``client.qris.generate``, re-sent only when the request provably never left).
The fault hits every attempt, so the attempt count is the retry policy's whole story (default
``max_retries=2``: three attempts). Faults come from :class:`FaultInjectingTransport` wrapped
around the real ``HttpxTransport`` and a strict gateway that checks every signature.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import attrs
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    APIError,
    AyolinxClient,
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    Credentials,
    HttpxTransport,
    NotFoundError,
    OutcomeUnknownError,
    PoolTimeoutError,
    RateLimitError,
    ReadTimeoutError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    WriteTimeoutError,
)
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.testing import Fault
from tests.reliability._gateway import GENERATE, QUERY, Rig, rig

pytestmark = pytest.mark.anyio

REF = "ORD-MATRIX-1"


@attrs.frozen
class Expect:
    """Typed outcome of one call: ``error`` (``None`` = success), attempts, requests forwarded
    to the server, and for ``OutcomeUnknownError`` the type of its cause."""

    error: type[BaseException] | None
    attempts: int
    forwarded: int
    cause: type[BaseException] | None = None
    delays: tuple[float, ...] | None = None  # exact backoff sleeps, when they are not jittered


@attrs.frozen
class Case:
    name: str
    fault: Callable[[], Fault]
    read: Expect
    money: Expect


def _snap(status: int, code: str, message: str) -> Callable[[], Fault]:
    return lambda: Fault.respond(status, {"responseCode": code, "responseMessage": message})


CASES = [
    Case(
        "connection-refused",
        Fault.refuse,
        read=Expect(ConnectError, 3, 0),
        money=Expect(ConnectError, 3, 0),  # provably never left: safe to re-send
    ),
    Case(
        "connect-timeout",
        Fault.connect_timeout,
        read=Expect(ConnectTimeoutError, 3, 0),
        money=Expect(ConnectTimeoutError, 3, 0),
    ),
    Case(
        "read-timeout-after-server-acted",
        lambda: Fault.read_timeout(after_send=True),
        read=Expect(ReadTimeoutError, 3, 3),
        money=Expect(OutcomeUnknownError, 1, 1, cause=ReadTimeoutError),
    ),
    Case(
        "read-timeout-before-server-saw-it",
        lambda: Fault.read_timeout(after_send=False),
        read=Expect(ReadTimeoutError, 3, 0),
        # The client cannot tell the two timeouts apart, so it must assume the worst.
        money=Expect(OutcomeUnknownError, 1, 0, cause=ReadTimeoutError),
    ),
    Case(
        "connection-dropped",
        lambda: Fault.drop(after_send=True),
        read=Expect(ConnectionDroppedError, 3, 3),
        money=Expect(OutcomeUnknownError, 1, 1, cause=ConnectionDroppedError),
    ),
    *[
        Case(
            f"http-{status}",
            lambda status=status: Fault.status(status),  # type: ignore[misc]
            read=Expect(ServerError, 3, 0),
            money=Expect(OutcomeUnknownError, 1, 0, cause=ServerError),
        )
        for status in (500, 502, 503, 504)
    ],
    Case(
        "http-503-after-server-acted",
        lambda: Fault.status(503, after_send=True),
        read=Expect(ServerError, 3, 3),
        money=Expect(OutcomeUnknownError, 1, 1, cause=ServerError),
    ),
    Case(
        "http-429-retry-after",
        lambda: Fault.status(429, headers={"Retry-After": "7"}),
        read=Expect(RateLimitError, 3, 0, delays=(7.0, 7.0)),
        # Rejected before processing, but money calls only re-send after connect errors.
        money=Expect(RateLimitError, 1, 0),
    ),
    Case(
        "html-502-error-page",
        lambda: Fault.html(502),
        read=Expect(ResponseDecodeError, 3, 0),
        money=Expect(OutcomeUnknownError, 1, 0, cause=ResponseDecodeError),
    ),
    Case(
        "html-403-waf-page",
        lambda: Fault.html(403),
        read=Expect(ResponseDecodeError, 1, 0),
        money=Expect(ResponseDecodeError, 1, 0),  # a 4xx: the request was refused
    ),
    Case(
        "empty-body-200",
        lambda: Fault.empty(200, after_send=True),
        read=Expect(ResponseDecodeError, 1, 1),
        money=Expect(OutcomeUnknownError, 1, 1, cause=ResponseDecodeError),
    ),
    Case(
        "truncated-json-200",
        lambda: Fault.truncate(),
        read=Expect(ResponseDecodeError, 1, 1),
        money=Expect(OutcomeUnknownError, 1, 1, cause=ResponseDecodeError),
    ),
    Case(
        "http-200-with-not-found-code",
        _snap(200, "4045101", "Transaction Not Found"),
        read=Expect(NotFoundError, 1, 0),
        money=Expect(NotFoundError, 1, 0),
    ),
    Case(
        "http-200-with-server-error-code",
        _snap(200, "5004701", "Internal Server Error"),
        read=Expect(ServerError, 3, 0),
        money=Expect(OutcomeUnknownError, 1, 0, cause=ServerError),
    ),
]


async def _read(r: Rig) -> Any:
    return await r.query(REF)


async def _money(r: Rig) -> Any:
    return await r.generate(REF)


def _check_backoff(expect: Expect, delays: list[float]) -> None:
    assert len(delays) == expect.attempts - 1
    if expect.delays is not None:
        assert tuple(delays) == expect.delays
        return
    # Default policy: 0.5 s doubling (capped at 8 s) with jitter in [base/2, base].
    for number, delay in enumerate(delays, start=1):
        base = min(8.0, 0.5 * 2 ** (number - 1))
        assert base / 2 <= delay <= base


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_fault_matrix(
    case: Case, kind: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    path, call, expect = (
        (QUERY, _read, case.read) if kind == "read-only" else (GENERATE, _money, case.money)
    )
    async with rig(credentials, merchant_key) as r:
        if kind == "read-only":
            r.gateway.set_status(REF, "01")
        r.faults.inject_always(case.fault(), path=path)
        assert expect.error is not None
        with pytest.raises(expect.error) as info:
            await call(r)
        records = r.faults.records_for(path)
        assert len(records) == expect.attempts
        assert r.faults.forwarded_to(path) == expect.forwarded
        assert r.gateway.service_requests == expect.forwarded
        assert r.gateway.token_requests == 1
        assert r.gateway.rejections == {}  # every forwarded attempt was validly signed
        _check_backoff(expect, r.sleeps.delays)
        # One logical call = one X-EXTERNAL-ID, whatever happened to each attempt.
        external_ids = {record.external_id for record in records}
        assert len(external_ids) == 1
        (external_id,) = external_ids
        error = info.value
        if isinstance(error, OutcomeUnknownError):
            assert isinstance(error.cause, expect.cause or Exception)
            assert error.__cause__ is error.cause
            assert error.attempts == expect.attempts
            assert error.external_id == external_id
            assert error.partner_reference_no == REF
            assert error.path == GENERATE
            assert REF in str(error)
            assert external_id in str(error)
        else:
            assert isinstance(error, TransportError | APIError | ResponseDecodeError)
            assert error.external_id == external_id


@pytest.mark.parametrize(
    "fault",
    [
        Fault.refuse(),
        Fault.connect_timeout(),
        Fault.read_timeout(),
        Fault.drop(),
        Fault.status(503),
        Fault.status(429, headers={"Retry-After": "1"}),
        Fault.html(502),
    ],
    ids=lambda f: f"{f.kind.value}-{f.status_code}",
)
async def test_read_only_call_recovers_after_one_transient_fault(
    fault: Fault, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "02")
        r.faults.inject(fault, path=QUERY)
        result = await _read(r)
        assert result.latest_transaction_status == "02"
        assert result.response.attempts == 2
        assert r.attempts(QUERY) == 2
        assert len({rec.external_id for rec in r.faults.records_for(QUERY)}) == 1
        assert len(r.sleeps.delays) == 1


@pytest.mark.parametrize(
    "fault", [Fault.refuse(), Fault.connect_timeout()], ids=lambda f: f.kind.value
)
async def test_money_call_is_resent_only_when_it_never_left(
    fault: Fault, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.faults.inject(fault, fault, path=GENERATE)
        result = await _money(r)
        assert result.response.attempts == 3
        assert r.attempts(GENERATE) == 3
        assert r.faults.forwarded_to(GENERATE) == 1  # the server saw exactly one request
        assert r.gateway.ledger == {REF: "01"}


async def test_token_call_retries_transient_faults_then_fails_typed(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    """The token request is safe to repeat: it is retried like a read-only call."""
    async with rig(credentials, merchant_key) as r:
        r.faults.inject(Fault.read_timeout(), Fault.status(503), path=TOKEN_PATH)
        token = await r.client.get_access_token()
        assert token.value == r.gateway.issued[-1]
        assert r.attempts(TOKEN_PATH) == 3
        assert r.gateway.token_requests == 2  # the read timeout was after the server acted
        r.client.token_cache.invalidate()
        r.faults.inject_always(Fault.drop(), path=TOKEN_PATH)
        with pytest.raises(ConnectionDroppedError):
            await _money(r)
        assert r.attempts(TOKEN_PATH) == 6
        # The service request was never sent, so nothing about the payment is uncertain.
        assert r.attempts(GENERATE) == 0


_HTTPX_FAULTS = [
    # (httpx exception, SDK error for a read, attempts for a money call, cause of its outcome)
    (httpx.ConnectError("refused"), ConnectError, 3, None),
    (httpx.ConnectTimeout("slow handshake"), ConnectTimeoutError, 3, None),
    (httpx.PoolTimeout("pool full"), PoolTimeoutError, 3, None),
    (httpx.ReadTimeout("no answer"), ReadTimeoutError, 1, ReadTimeoutError),
    (httpx.WriteTimeout("stuck sending"), WriteTimeoutError, 1, WriteTimeoutError),
    (httpx.RemoteProtocolError("peer closed"), ConnectionDroppedError, 1, ConnectionDroppedError),
    (httpx.ReadError("reset"), ConnectionDroppedError, 1, ConnectionDroppedError),
]


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
@pytest.mark.parametrize(
    ("raised", "read_error", "money_attempts", "cause"),
    _HTTPX_FAULTS,
    ids=[type(f[0]).__name__ for f in _HTTPX_FAULTS],
)
async def test_httpx_failures_map_to_typed_outcomes(
    kind: str,
    raised: Exception,
    read_error: type[Exception],
    money_attempts: int,
    cause: type[Exception] | None,
    credentials: Credentials,
) -> None:
    """The default transport's mapping of real httpx exceptions decides re-sending correctly."""
    service: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            body = {"responseCode": "2007300", "accessToken": "t" * 40, "expiresIn": "900"}
            return httpx.Response(200, content=json.dumps(body).encode())
        service.append(request)
        raise raised

    transport = HttpxTransport(transport=httpx.MockTransport(handler))
    async with AyolinxClient(
        credentials, base_url="https://gateway.test", transport=transport, sleep=_no_sleep
    ) as client:
        if kind == "read-only":
            with pytest.raises(read_error):
                await client.request(QUERY, {}, idempotent=True)
            assert len(service) == 3
        else:
            expected = OutcomeUnknownError if cause is not None else read_error
            with pytest.raises(expected) as info:
                await client.request(GENERATE, {"partnerReferenceNo": REF})
            assert len(service) == money_attempts
            if cause is not None:
                assert isinstance(info.value.cause, cause)  # type: ignore[attr-defined]
    await transport.aclose()


async def _no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()

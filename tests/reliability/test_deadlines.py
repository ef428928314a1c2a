"""A call never outlives its own timeout (issue 12 §3), and :func:`decide` as a table.

These use the real clock and the real ``anyio.sleep``: the point is wall time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import anyio
import httpx
import pytest

from ayolinx_async import (
    AyolinxClient,
    ConnectError,
    Credentials,
    OutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from ayolinx_async._errors import (
    APIError,
    AyolinxError,
    ConflictError,
    InvalidTokenError,
    ReadTimeoutError,
    ResponseCode,
    ResponseDecodeError,
)
from ayolinx_async._retries import Action, decide, parse_retry_after

TOKEN = "/v1.0/access-token/b2b"
QUERY = "/v1.0/qr/qr-mpm-query"
GENERATE = "/v1.0/qr/qr-mpm-generate"
TOKEN_BODY = {
    "responseCode": "2007300",
    "responseMessage": "Successful",
    "accessToken": "tok-deadline-0123456789abcdef",
    "tokenType": "Bearer",
    "expiresIn": "900",
}


def _gateway(answer: Callable[[str], httpx.Response]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        return answer(request.url.path)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def _json(status: int, body: dict[str, str], **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def _limited(path: str, *, token_too: bool = False, retry_after: str = "86400") -> httpx.Response:
    if path == TOKEN and not token_too:
        return _json(200, TOKEN_BODY)
    code = "4297300" if path == TOKEN else "4294700"
    return _json(
        429, {"responseCode": code, "responseMessage": "Too Many"}, **{"Retry-After": retry_after}
    )


@pytest.mark.anyio
async def test_a_read_with_timeout_2_and_retry_after_a_day_raises_rate_limit_now(
    credentials: Credentials,
) -> None:
    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_gateway(_limited)
    ) as client:
        started = time.monotonic()
        with anyio.fail_after(30), pytest.raises(RateLimitError) as info:
            await client.request(
                QUERY, {"originalPartnerReferenceNo": "R1"}, idempotent=True, timeout=2
            )
        elapsed = time.monotonic() - started
    assert elapsed <= 2.5
    assert info.value.retry_after == 86400.0


@pytest.mark.anyio
async def test_a_token_429_under_a_money_moving_call_is_bounded_by_its_timeout(
    credentials: Credentials,
) -> None:
    def answer(path: str) -> httpx.Response:
        return _limited(path, token_too=True)

    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_gateway(answer)
    ) as client:
        started = time.monotonic()
        with anyio.fail_after(30), pytest.raises(RateLimitError) as info:
            await client.request(GENERATE, {"partnerReferenceNo": "R2"}, timeout=2)
        assert time.monotonic() - started <= 2.5
    assert info.value.retry_after == 86400.0


@pytest.mark.anyio
async def test_retries_that_fit_the_deadline_still_happen_and_the_whole_call_is_bounded(
    credentials: Credentials,
) -> None:
    calls: list[str] = []

    def answer(path: str) -> httpx.Response:
        calls.append(path)
        if path == TOKEN:
            return _json(200, TOKEN_BODY)
        return _limited(path, retry_after="1")

    policy = RetryPolicy(max_retries=10)
    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_gateway(answer), retry=policy
    ) as client:
        started = time.monotonic()
        with anyio.fail_after(30), pytest.raises(RateLimitError):
            await client.request(
                QUERY, {"originalPartnerReferenceNo": "R3"}, idempotent=True, timeout=2.5
            )
        elapsed = time.monotonic() - started
    # Two 1 s waits fit in 2.5 s (each leaving at least min(1, 2.5/4) s); a third does not.
    assert calls.count(QUERY) == 2
    assert elapsed <= 2.5


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["²", "①", "١٢", "9" * 400, "Thu, 99 Foo 9999 99:99:99 GMT"])
async def test_a_hostile_retry_after_is_tolerated_not_raised(
    credentials: Credentials, header: str
) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def answer(path: str) -> httpx.Response:
        if path == TOKEN:
            return _json(200, TOKEN_BODY)
        # Header bytes as a server sends them (httpx decodes them as latin-1, so "²" arrives).
        try:
            raw = header.encode("latin-1")
        except UnicodeEncodeError:
            raw = header.encode("utf-8")
        body = json.dumps({"responseCode": "5034700", "responseMessage": "Busy"}).encode()
        return httpx.Response(503, content=body, headers=[(b"Retry-After", raw)])

    policy = RetryPolicy(jitter=False, max_retries=1)
    async with AyolinxClient(
        credentials,
        base_url="https://gw.test",
        http_client=_gateway(answer),
        retry=policy,
        sleep=sleep,
    ) as client:
        with pytest.raises(ServerError):
            await client.request(QUERY, {"originalPartnerReferenceNo": "R4"}, idempotent=True)
    # Garbage falls back to the backoff (0.5 s); 400 nines are capped, never an exception.
    assert sleeps in ([0.5], [60.0])


@pytest.mark.parametrize("value", ["²", "①", "١٢٣", "1e3", "-5", "", "  ", "12 3"])
def test_parse_retry_after_is_total_and_ascii_only(value: str) -> None:
    assert parse_retry_after(value, 0.0) is None


def test_parse_retry_after_reads_seconds_and_dates() -> None:
    assert parse_retry_after(" 120 ", 0.0) == 120.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 0.0) == 60.0


# -- decide() as a table ------------------------------------------------------------------------


def _api(cls: type[APIError], status: int, code: str) -> APIError:
    return cls(http_status=status, response_code=ResponseCode.parse(code), message="m")


_POLICY = RetryPolicy(jitter=False, max_retries=2)
_CASES: list[tuple[str, AyolinxError, dict[str, object], Action]] = [
    ("read 503 -> wait", _api(ServerError, 503, "5034700"), {}, Action.RETRY),
    ("read 429 -> wait", _api(RateLimitError, 429, "4294700"), {}, Action.RETRY),
    ("read timeout -> wait", ReadTimeoutError("t"), {}, Action.RETRY),
    ("read 400 -> raise", _api(ConflictError, 409, "4094701"), {}, Action.RAISE),
    ("read retries spent", _api(ServerError, 503, "5034700"), {"retries": 2}, Action.RAISE),
    (
        "read 409xx00 on resend",
        _api(ConflictError, 409, "4094700"),
        {"id_attempts": 2},
        Action.RETRY_NEW_ID,
    ),
    ("read 409xx00 first send", _api(ConflictError, 409, "4094700"), {}, Action.RAISE),
    (
        "money 503 -> unknown",
        _api(ServerError, 503, "5034700"),
        {"money_moving": True},
        Action.OUTCOME_UNKNOWN,
    ),
    ("money read timeout", ReadTimeoutError("t"), {"money_moving": True}, Action.OUTCOME_UNKNOWN),
    ("money never sent", ConnectError("c"), {"money_moving": True}, Action.RETRY),
    (
        "money never sent, spent",
        ConnectError("c"),
        {"money_moving": True, "retries": 2},
        Action.RAISE,
    ),
    (
        "money 409xx00 on resend",
        _api(ConflictError, 409, "4094700"),
        {"money_moving": True, "id_attempts": 2},
        Action.OUTCOME_UNKNOWN,
    ),
    (
        "money 409xx01 dup ref",
        _api(ConflictError, 409, "4094701"),
        {"money_moving": True},
        Action.RAISE,
    ),
    (
        "money 202 in progress",
        _api(ConflictError, 202, "2024700"),
        {"money_moving": True},
        Action.OUTCOME_UNKNOWN,
    ),
    (
        "money html 502",
        ResponseDecodeError("html", http_status=502, raw=b"<"),
        {"money_moving": True},
        Action.OUTCOME_UNKNOWN,
    ),
    (
        "money 429 -> raise",
        _api(RateLimitError, 429, "4294700"),
        {"money_moving": True},
        Action.RAISE,
    ),
    (
        "token 503 -> wait",
        _api(ServerError, 503, "5037300"),
        {"money_moving": True, "token_obtained": False},
        Action.RETRY,
    ),
    (
        "token 401 -> raise",
        _api(InvalidTokenError, 401, "4017301"),
        {"token_obtained": False},
        Action.RAISE,
    ),
    ("401xx01 -> refresh", _api(InvalidTokenError, 401, "4014701"), {}, Action.REFRESH_TOKEN),
    (
        "401xx01 twice",
        _api(InvalidTokenError, 401, "4014701"),
        {"token_refreshed": True},
        Action.RAISE,
    ),
    (
        "past deadline",
        _api(ServerError, 503, "5034700"),
        {"now": 9.9, "deadline": 10.0},
        Action.RAISE,
    ),
    (
        "retry-after past deadline",
        _api(RateLimitError, 429, "4294700"),
        {"retry_after": 86400.0, "now": 0.0, "deadline": 2.0},
        Action.RAISE,
    ),
    (
        "retry-after fits",
        _api(RateLimitError, 429, "4294700"),
        {"retry_after": 1.0, "now": 0.0, "deadline": 2.0, "min_attempt": 0.5},
        Action.RETRY,
    ),
]


@pytest.mark.parametrize(("name", "error", "given", "expected"), _CASES, ids=[c[0] for c in _CASES])
def test_decide_table(
    name: str, error: AyolinxError, given: dict[str, object], expected: Action
) -> None:
    arguments: dict[str, object] = {
        "money_moving": False,
        "token_obtained": True,
        "retries": 0,
        "id_attempts": 1,
        "token_refreshed": False,
        "policy": _POLICY,
    }
    arguments.update(given)
    decision = decide(error, **arguments)  # type: ignore[arg-type]
    assert decision.action is expected, decision.reason
    if expected is Action.RETRY:
        assert decision.delay >= 0


def test_decide_uses_retry_after_over_backoff() -> None:
    error = _api(RateLimitError, 429, "4294700")
    decision = decide(
        error,
        money_moving=False,
        token_obtained=True,
        retries=0,
        id_attempts=1,
        token_refreshed=False,
        policy=_POLICY,
        retry_after=7.0,
    )
    assert (decision.action, decision.delay) == (Action.RETRY, 7.0)


@pytest.mark.anyio
async def test_money_moving_unknown_outcome_still_raised_under_deadlines(
    credentials: Credentials,
) -> None:
    def answer(path: str) -> httpx.Response:
        if path == TOKEN:
            return _json(200, TOKEN_BODY)
        return _json(500, {"responseCode": "5004700", "responseMessage": "General Error"})

    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_gateway(answer)
    ) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.request(GENERATE, {"partnerReferenceNo": "R5"}, timeout=2)

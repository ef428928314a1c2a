"""The retry policy: backoff schedule and jitter, ``Retry-After``, per-client and per-call
settings through ``with_options``, per-call timeouts, and re-signing of every attempt."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    ConnectError,
    Credentials,
    OutcomeUnknownError,
    ReadTimeoutError,
    RetryPolicy,
    ServerError,
    Timeout,
)
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async._retries import parse_retry_after
from ayolinx_async._wire import format_timestamp
from ayolinx_async.testing import Fault
from tests.reliability._gateway import GENERATE, QUERY, rig

REF = "ORD-RETRY-1"


# -- the policy as a pure function -----------------------------------------------------------


def test_default_policy_is_two_retries_from_half_a_second_doubling_to_eight() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 2
    exact = RetryPolicy(jitter=False)
    assert [exact.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_spreads_delays_within_half_to_full_base() -> None:
    policy = RetryPolicy()
    for number in range(1, 7):
        base = min(8.0, 0.5 * 2 ** (number - 1))
        samples = [policy.delay(number) for _ in range(200)]
        assert all(base / 2 <= s <= base for s in samples)
        assert len(set(samples)) > 150  # really random, not a constant


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    policy = RetryPolicy()
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(1, 0.0) == 0.0
    assert policy.delay(1, 3600.0) == 60.0  # max_retry_after
    assert RetryPolicy(max_retry_after=5).delay(2, 30.0) == 5.0
    ignoring = RetryPolicy(respect_retry_after=False, jitter=False)
    assert ignoring.delay(2, 30.0) == 1.0


def test_parse_retry_after_seconds_http_date_and_garbage() -> None:
    now = 1_726_120_500.0
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(" 3 ", now) == 3.0
    later = format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True)
    assert parse_retry_after(later, now) == 90.0
    earlier = format_datetime(datetime.fromtimestamp(now - 90, UTC), usegmt=True)
    assert parse_retry_after(earlier, now) == 0.0
    for garbage in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(garbage, now) is None


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# -- the policy inside the client ------------------------------------------------------------


@pytest.mark.anyio
async def test_a_503_storm_follows_the_exact_backoff_schedule(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key, retry=RetryPolicy(max_retries=6, jitter=False)) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject_always(Fault.status(503), path=QUERY)
        with pytest.raises(ServerError):
            await r.query(REF)
        assert r.attempts(QUERY) == 7
        assert r.sleeps.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


@pytest.mark.anyio
async def test_retry_after_http_date_is_honoured(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        when = format_datetime(datetime.fromtimestamp(r.clock() + 20, UTC), usegmt=True)
        r.faults.inject(Fault.status(503, headers={"Retry-After": when}), path=QUERY)
        await r.query(REF)
        assert r.sleeps.delays == [20.0]


@pytest.mark.anyio
async def test_retry_after_on_an_html_503_page_is_honoured(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        page = Fault.respond(
            503,
            "<html>maintenance</html>",
            headers={"Retry-After": "9", "content-type": "text/html"},
        )
        r.faults.inject(page, path=QUERY)
        await r.query(REF)
        assert r.sleeps.delays == [9.0]


@pytest.mark.anyio
async def test_every_attempt_is_resigned_with_a_fresh_timestamp_and_the_same_external_id(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key, retry=RetryPolicy(initial=2.0, jitter=False)) as r:
        r.gateway.set_status(REF, "01")
        start = r.clock()
        # The server processes (and so verifies the signature of) every attempt.
        r.faults.inject(Fault.status(503, after_send=True), Fault.drop(), path=QUERY)
        await r.query(REF)
        requests = [rec.request for rec in r.faults.records_for(QUERY)]
        assert len(requests) == 3
        assert [q.headers["X-TIMESTAMP"] for q in requests] == [
            format_timestamp(start),
            format_timestamp(start + 2),
            format_timestamp(start + 2 + 4),
        ]
        assert len({q.headers["X-SIGNATURE"] for q in requests}) == 3
        assert len({q.headers["X-EXTERNAL-ID"] for q in requests}) == 1
        assert len({q.content for q in requests}) == 1  # the body is encoded once
        assert r.gateway.service_requests == 3
        assert r.gateway.rejections == {}  # all three signatures were valid


@pytest.mark.anyio
async def test_max_retries_per_client_and_per_view(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key, max_retries=0) as r:
        r.gateway.set_status(REF, "01")
        r.faults.inject_always(Fault.refuse(), path=QUERY)
        with pytest.raises(ConnectError):
            await r.query(REF)
        assert r.attempts(QUERY) == 1
        patient = r.client.with_options(max_retries=4)
        with pytest.raises(ConnectError):
            await patient.qris.query(original_partner_reference_no=REF)
        assert r.attempts(QUERY) == 1 + 5
        with pytest.raises(ConnectError):
            await r.query(REF)  # the root client is unchanged
        assert r.attempts(QUERY) == 1 + 5 + 1
        custom = r.client.with_options(retry=RetryPolicy(max_retries=1, jitter=False, initial=3))
        with pytest.raises(ConnectError):
            await custom.request(QUERY, {"originalPartnerReferenceNo": REF}, idempotent=True)
        assert r.attempts(QUERY) == 1 + 5 + 1 + 2
        assert r.sleeps.delays[-1] == 3.0


@pytest.mark.anyio
async def test_with_options_shares_token_cache_and_transport_and_closes_nothing(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status(REF, "01")
        view = r.client.with_options(timeout=5, max_retries=0)
        assert view.transport is r.client.transport
        assert view.token_cache is r.client.token_cache
        await r.query(REF)
        await view.qris.query(original_partner_reference_no=REF)
        nested = view.with_options(max_retries=3)
        await nested.request(QUERY, {"originalPartnerReferenceNo": REF}, idempotent=True)
        assert r.gateway.token_requests == 1  # one token for the client and all its views
        await view.aclose()
        await nested.aclose()
        await r.query(REF)  # closing a view closed nothing
        assert r.attempts(QUERY) == 4


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["with_options", "per-call", "resource-per-call"])
async def test_per_call_timeout_bounds_the_attempt(
    how: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key, max_retries=0) as r:
        await r.client.get_access_token()
        r.faults.inject_always(Fault.hang(), path=GENERATE)
        body = {"partnerReferenceNo": REF}

        async def call() -> None:
            if how == "with_options":
                await r.client.with_options(timeout=0.05).request(GENERATE, body)
            elif how == "per-call":
                await r.client.request(GENERATE, body, timeout=0.05)
            else:
                await r.client.qris.generate(
                    partner_reference_no=REF, amount=1000, timeout=Timeout(connect=1, total=0.05)
                )

        started = time.monotonic()
        with anyio.fail_after(5), pytest.raises(OutcomeUnknownError) as info:
            await call()
        elapsed = time.monotonic() - started
        assert isinstance(info.value.__cause__, ReadTimeoutError)  # wrapped: outcome unknown
        assert elapsed < 1.0
        (record,) = r.faults.records_for(GENERATE)
        assert record.request.timeout is not None
        assert record.request.timeout.total == 0.05
        # The next call without the override uses the client's default again.
        r.faults.clear()
        await r.client.request(GENERATE, {"partnerReferenceNo": REF + "-2"})
        assert r.faults.records_for(GENERATE)[-1].request.timeout == Timeout()


@pytest.mark.anyio
async def test_per_call_timeout_also_bounds_the_token_request(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key, max_retries=0) as r:
        r.faults.inject(Fault.hang(), path=TOKEN_PATH)
        started = time.monotonic()
        with anyio.fail_after(2), pytest.raises(ReadTimeoutError):
            await r.client.with_options(timeout=0.05).request(QUERY, {}, idempotent=True)
        assert time.monotonic() - started < 1.0
        assert len(r.faults.records_for(TOKEN_PATH)) == 1
        assert r.faults.records_for(QUERY) == []


@pytest.mark.anyio
async def test_idempotent_flag_decides_resending_for_the_escape_hatch(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with rig(credentials, merchant_key) as r:
        r.faults.inject_always(Fault.status(502), path="/v1.0/custom/op")
        with pytest.raises(ServerError):
            await r.client.request("/v1.0/custom/op", {}, idempotent=True)
        assert r.attempts("/v1.0/custom/op") == 3
        with pytest.raises(OutcomeUnknownError) as info:
            await r.client.request("/v1.0/custom/op", {"partnerReferenceNo": "X-1"})
        assert info.value.partner_reference_no == "X-1"
        assert r.attempts("/v1.0/custom/op") == 4

"""Traces and metrics of real client calls, read back from the SDK's in-memory exporters."""

from __future__ import annotations

import functools
from typing import Any

import anyio
import httpx
import pytest

from ayolinx_async import (
    AyolinxClient,
    BadRequestError,
    Credentials,
    MemoryTokenStore,
    OutcomeUnknownError,
)
from ayolinx_async._telemetry import _names as n
from tests._fakes import FakeAyolinx, json_response
from tests.telemetry.conftest import Otel, labels

pytestmark = pytest.mark.anyio

QUERY = "/v1.0/qr/qr-mpm-query"
GENERATE = "/v1.0/qr/qr-mpm-generate"
URL = "https://sandbox.test"


def _scripted(*answers: httpx.Response | Exception) -> Any:
    """A ``service`` responder answering ``answers`` in turn (an exception is raised)."""
    pending = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        found = pending.pop(0)
        if isinstance(found, Exception):
            raise found
        return found

    return answer


def _ok(code: str = "2005100") -> httpx.Response:
    return json_response(200, {"responseCode": code, "responseMessage": "Successful"})


def _client(fake: FakeAyolinx, credentials: Credentials, otel: Otel, **kw: Any) -> AyolinxClient:
    return fake.client(credentials, telemetry=True, **otel.providers, **kw)


def _tree(otel: Otel, root_name: str) -> list[tuple[str, dict[str, Any]]]:
    (root,) = otel.named(root_name)
    assert root.parent is None
    return [(span.name, dict(span.attributes or {})) for span in otel.children(root)]


async def test_retried_read_span_tree(credentials: Credentials, otel: Otel) -> None:
    fake = FakeAyolinx()
    fake.service = _scripted(
        json_response(500, {"responseCode": "5005101", "responseMessage": "General Error"}),
        _ok(),
    )
    async with _client(fake, credentials, otel) as client:
        result = await client.request(QUERY, {"originalPartnerReferenceNo": "R1"}, idempotent=True)
    ext = result.external_id
    http = {
        n.HTTP_METHOD: "POST",
        n.URL_FULL: URL + QUERY,
        n.SERVER_ADDRESS: "sandbox.test",
        n.SERVER_PORT: 443,
        n.OPERATION: "qris.query",
        n.MONEY_MOVING: False,
        n.EXTERNAL_ID: ext,
    }
    assert _tree(otel, "ayolinx qris.query") == [
        (
            "ayolinx token.refresh",
            {
                n.OPERATION: "token",
                n.TOKEN_SHARED_STORE: False,
                n.TOKEN_FROM_STORE: False,
                n.OUTCOME: "ok",
            },
        ),
        (
            "POST",
            {
                **http,
                n.ATTEMPT: 1,
                n.HTTP_STATUS: 500,
                n.RESPONSE_CODE: "5005101",
                n.ERROR_TYPE: "ServerError",
                n.OUTCOME: "failed",
            },
        ),
        (
            "POST",
            {**http, n.ATTEMPT: 2, n.HTTP_STATUS: 200, n.RESPONSE_CODE: "2005100", n.OUTCOME: "ok"},
        ),
    ]
    (root,) = otel.named("ayolinx qris.query")
    assert dict(root.attributes or {}) == {
        n.OPERATION: "qris.query",
        n.MONEY_MOVING: False,
        n.OUTCOME: "ok",
        n.ATTEMPTS: 2,
        n.EXTERNAL_ID: ext,
        n.RESPONSE_CODE: "2005100",
    }
    assert "traceparent" not in fake.service_requests[0].headers  # not unless asked


async def test_unknown_outcome_create_span_tree(credentials: Credentials, otel: Otel) -> None:
    fake = FakeAyolinx()
    fake.service = _scripted(httpx.ReadTimeout("slow"))
    async with _client(fake, credentials, otel) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.post(GENERATE, {"partnerReferenceNo": "ORD-1"}, money_moving=True)
    names = [name for name, _ in _tree(otel, "ayolinx qris.generate")]
    assert names == ["ayolinx token.refresh", "POST"]
    (_, attempt) = _tree(otel, "ayolinx qris.generate")[1]
    assert attempt[n.OUTCOME] == "unknown"
    assert attempt[n.ERROR_TYPE] == "ReadTimeoutError"
    assert attempt[n.MONEY_MOVING] is True
    assert n.HTTP_STATUS not in attempt
    (root,) = otel.named("ayolinx qris.generate")
    assert root.attributes is not None
    assert root.attributes[n.OUTCOME] == "unknown"
    assert root.attributes[n.EXTERNAL_ID] == caught.value.external_id
    assert otel.counts(n.METRIC_OUTCOME_UNKNOWN) == {labels({n.OPERATION: "qris.generate"}): 1}


async def test_propagate_context_sends_traceparent_of_the_attempt(
    credentials: Credentials, otel: Otel
) -> None:
    fake = FakeAyolinx()
    async with _client(fake, credentials, otel, propagate_context=True) as client:
        await client.request(QUERY, {}, idempotent=True)
    (attempt,) = otel.named("POST")
    assert attempt.context is not None
    sent = fake.service_requests[0].headers["traceparent"]
    assert sent.split("-")[2] == format(attempt.context.span_id, "016x")
    assert "traceparent" not in fake.token_requests[0].headers


@pytest.mark.parametrize("shared", [False, True])
async def test_stampede_makes_one_refresh_span(
    credentials: Credentials, otel: Otel, shared: bool
) -> None:
    fake = FakeAyolinx(token_delay=0.05)
    store = MemoryTokenStore() if shared else None
    if store is not None:  # another worker already put a token in the shared store
        async with fake.client(credentials, token_store=store) as other:
            await other.get_access_token()
    async with (
        _client(fake, credentials, otel, token_store=store) as client,
        anyio.create_task_group() as tg,
    ):
        for _ in range(100):
            tg.start_soon(functools.partial(client.request, QUERY, {}, idempotent=True))
    (refresh,) = otel.named("ayolinx token.refresh")
    assert refresh.attributes is not None
    assert refresh.attributes[n.TOKEN_FROM_STORE] is shared
    assert refresh.attributes[n.TOKEN_SHARED_STORE] is shared
    assert refresh.parent is not None  # under the call that refreshed
    assert len(otel.named("ayolinx qris.query")) == 100
    assert len(fake.token_requests) == 1
    assert otel.counts(n.METRIC_TOKEN_REFRESHES) == {labels({n.TOKEN_FROM_STORE: shared}): 1}


async def test_metric_values_after_a_scripted_run(credentials: Credentials, otel: Otel) -> None:
    fake = FakeAyolinx()
    fake.token_failures = 1  # the first token request answers 503, the retry succeeds
    fake.service = _scripted(
        json_response(503, {"responseCode": "5035100", "responseMessage": "Down"}),
        _ok(),
        json_response(400, {"responseCode": "4005101", "responseMessage": "Bad"}),
        httpx.ReadTimeout("slow"),
        _ok("2004700"),
    )
    async with _client(fake, credentials, otel) as client:
        await client.request(QUERY, {}, idempotent=True)  # retried once, ok
        with pytest.raises(BadRequestError):
            await client.request(QUERY, {}, idempotent=True)
        with pytest.raises(OutcomeUnknownError):
            await client.post(GENERATE, {}, money_moving=True)
        await client.post(GENERATE, {}, money_moving=True)
    assert otel.counts(n.METRIC_CALL_DURATION) == {
        labels({n.OPERATION: "qris.query", n.OUTCOME: "ok"}): 1,
        labels({n.OPERATION: "qris.query", n.OUTCOME: "failed"}): 1,
        labels({n.OPERATION: "qris.generate", n.OUTCOME: "unknown"}): 1,
        labels({n.OPERATION: "qris.generate", n.OUTCOME: "ok"}): 1,
    }
    assert otel.counts(n.METRIC_RETRIES) == {
        labels({n.OPERATION: "qris.query", n.RETRY_ACTION: "retry"}): 2,  # token 503, service 503
    }
    assert otel.counts(n.METRIC_TOKEN_REFRESHES) == {labels({n.TOKEN_FROM_STORE: False}): 1}
    assert otel.counts(n.METRIC_TOKEN_REFRESH_FAILURES) == {
        labels({n.ERROR_TYPE: "ServerError"}): 1
    }
    assert otel.counts(n.METRIC_OUTCOME_UNKNOWN) == {labels({n.OPERATION: "qris.generate"}): 1}


async def test_off_by_default_and_by_env(
    credentials: Credentials, otel: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AYOLINX_OTEL", raising=False)
    fake = FakeAyolinx()
    async with fake.client(credentials, **otel.providers) as client:
        await client.request(QUERY, {}, idempotent=True)
    assert otel.spans() == []
    monkeypatch.setenv("AYOLINX_OTEL", "1")
    async with fake.client(credentials, **otel.providers) as client:
        await client.request(QUERY, {}, idempotent=True)
    assert [span.name for span in otel.spans()] == [
        "ayolinx token.refresh",
        "POST",
        "ayolinx qris.query",
    ]

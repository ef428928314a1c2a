"""Edge cases found in review: each would have lost or misreported money."""

from __future__ import annotations

import gzip

import httpx
import pytest

from ayolinx_async import (
    AyolinxClient,
    ConnectionDroppedError,
    Credentials,
    HttpResponse,
    HttpxTransport,
    OutcomeUnknownError,
    TransportError,
)
from ayolinx_async._wire import parse_timestamp
from ayolinx_async.callbacks import CallbackResponse
from ayolinx_async.models._common import parse_amount, parse_time
from ayolinx_async.transport._base import HttpRequest
from tests._fakes import FakeAyolinx, json_response

GENERATE = "/v1.0/qr/qr-mpm-generate"


@pytest.mark.anyio
async def test_202_in_progress_on_a_money_moving_call_is_an_unknown_outcome(
    credentials: Credentials,
) -> None:
    fake = FakeAyolinx()
    fake.service = lambda request: json_response(
        202, {"responseCode": "2024700", "responseMessage": "Request In Progress"}
    )
    async with fake.client(credentials) as client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.request(GENERATE, {"partnerReferenceNo": "ORD-202"})
    assert info.value.partner_reference_no == "ORD-202"
    assert len(fake.service_requests) == 1  # never re-sent


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_user_client_raising_on_status_still_gives_typed_outcomes(
    credentials: Credentials,
) -> None:
    """A raise_for_status hook on the user's httpx client must not bypass the SDK's rules."""
    fake = FakeAyolinx()
    fake.service = lambda request: json_response(
        504, {"responseCode": "5044700", "responseMessage": "Timeout"}
    )

    async def raise_for_status(response: httpx.Response) -> None:
        await response.aread()
        response.raise_for_status()

    user = httpx.AsyncClient(
        transport=httpx.MockTransport(fake), event_hooks={"response": [raise_for_status]}
    )
    async with AyolinxClient(credentials, base_url="https://x.test", http_client=user) as client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.request(GENERATE, {"partnerReferenceNo": "ORD-504"})
    assert info.value.cause.__class__.__name__ == "ServerError"
    await user.aclose()


@pytest.mark.anyio
async def test_corrupt_content_encoding_is_a_dropped_connection(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    fake.service = lambda request: httpx.Response(
        200, content=b"not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    async with fake.client(credentials, max_retries=0) as client:
        with pytest.raises(ConnectionDroppedError):
            await client.request("/v1.0/qr/qr-mpm-query", {}, idempotent=True)
        with pytest.raises(OutcomeUnknownError):
            await client.request(GENERATE, {"partnerReferenceNo": "ORD-GZ"})
    assert gzip.compress(b"x")  # (the fake really sent a non-gzip body labelled gzip)


class _LeakyTransport:
    """A third-party transport that lets its own exception type escape."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        raise OSError("socket exploded")

    async def aclose(self) -> None:
        return None


@pytest.mark.anyio
async def test_foreign_transport_exceptions_become_transport_errors(
    credentials: Credentials,
) -> None:
    client = AyolinxClient(
        credentials, base_url="https://x.test", transport=_LeakyTransport(), max_retries=0
    )
    with pytest.raises(TransportError):
        await client.get_access_token()
    await client.aclose()


def test_environment_proxy_keeps_httpx_proxy_support(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    transport = HttpxTransport()
    assert transport.connection_pool is None  # the AsyncClient path, which mounts the proxy
    pools = [getattr(m, "_pool", None) for m in transport.client._mounts.values()]
    assert any(type(p).__name__ == "AsyncHTTPProxy" for p in pools)
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    assert HttpxTransport().connection_pool is not None


def test_parse_time_never_raises() -> None:
    assert parse_time(1746249942000) == parse_time(1746249942)  # milliseconds as a JSON number
    assert parse_time(10**30) is None
    assert parse_time("9" * 30) is None
    assert parse_time("2025-01-10T11:12:13+07:00") is not None


def test_parse_amount_refuses_more_than_two_decimals() -> None:
    assert parse_amount("20.000") is None  # Indonesian "Rp 20.000" is not Rp 20
    assert parse_amount("10000.005") is None
    assert str(parse_amount("10000.00")) == "10000.00"
    assert str(parse_amount("1,234.50")) == "1234.50"


def test_callback_timestamp_offset_without_colon() -> None:
    """Our own X-TIMESTAMP parser stays strict (the simulator rejects +0700 like SNAP does);
    the callback verifier tolerates it, since Ayolinx's e-wallet page names that format."""
    from ayolinx_async.callbacks._verify import _instant

    with pytest.raises(ValueError, match="explicit offset"):
        parse_timestamp("2024-09-18T13:36:36+0700")
    assert _instant("2024-09-18T13:36:36+0700") == _instant("2024-09-18T13:36:36+07:00")


def test_reprs_hide_tokens() -> None:
    body = b'{"responseCode":"2007300","accessToken":"secret-token-value-123"}'
    assert "secret-token" not in repr(HttpResponse(status_code=200, headers={}, content=body))
    assert "secret-token" not in repr(CallbackResponse(200, {}, body))

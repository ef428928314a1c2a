"""What only the aiohttp transport has: lazy import, lazy session, asyncio-only, its pool limit,
and the whole client pipeline carried over it."""

from __future__ import annotations

import json
import subprocess
import sys

import aiohttp
import anyio
import pytest

from ayolinx_async import AyolinxClient, ConfigurationError, Credentials, OutcomeUnknownError
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.transport import HttpRequest, Timeout
from ayolinx_async.transport.aiohttp import AiohttpTransport

from ._rawserver import Behaviour, Connection, Received, http_response, raw_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _request(url: str) -> HttpRequest:
    return HttpRequest(
        method="POST", url=url, headers={"Content-Type": "application/json"}, content=b"{}"
    )


def test_importing_the_sdk_does_not_import_aiohttp() -> None:
    code = (
        "import sys, ayolinx_async, ayolinx_async.transport as t\n"
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported eagerly'\n"
        "cls = t.AiohttpTransport\n"
        "assert 'aiohttp' in sys.modules and cls.__name__ == 'AiohttpTransport'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_lazy_export_is_the_module_class() -> None:
    from ayolinx_async import transport

    assert transport.AiohttpTransport is AiohttpTransport
    with pytest.raises(AttributeError):
        _ = transport.NoSuchTransport


def test_built_outside_an_event_loop_without_a_session() -> None:
    transport = AiohttpTransport(timeout=Timeout(connect=1.0, total=2.0))
    assert transport.session is None


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigurationError):
        AiohttpTransport(session=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AiohttpTransport(limit=0)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_refuses_to_run_on_trio() -> None:
    transport = AiohttpTransport()
    with pytest.raises(ConfigurationError, match="asyncio"):
        await transport.send(_request("http://127.0.0.1:9/"))
    assert transport.session is None


@pytest.mark.anyio
async def test_pool_limit_caps_open_connections() -> None:
    async def slow(conn: Connection, request: Received) -> bool:
        await anyio.sleep(0.05)
        await conn.send(http_response())
        return True

    transport = AiohttpTransport(limit=2)
    async with raw_server(slow) as server:
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(transport.send, _request(server.url + "/x"))
        await transport.aclose()
    assert len(server.requests) == 6
    assert server.connections == 2


@pytest.mark.anyio
async def test_users_session_settings_are_used() -> None:
    session_headers = {"X-From-Session": "yes"}
    async with raw_server() as server, aiohttp.ClientSession(headers=session_headers) as session:
        transport = AiohttpTransport(session)
        await transport.send(_request(server.url + "/x"))
        assert transport.session is session
    assert server.requests[0].header("X-From-Session") == "yes"


@pytest.mark.anyio
async def test_error_status_is_returned_even_if_the_session_raises_for_status() -> None:
    async def fail(conn: Connection, request: Received) -> bool:
        await conn.send(http_response(503, b'{"responseCode":"5035100"}', reason="Unavailable"))
        return True

    async with raw_server(fail) as server, aiohttp.ClientSession(raise_for_status=True) as session:
        response = await AiohttpTransport(session).send(_request(server.url + "/x"))
    assert response.status_code == 503
    assert response.content == b'{"responseCode":"5035100"}'


def _fake_ayolinx(service_behaviour: str) -> Behaviour:
    async def answer(conn: Connection, request: Received) -> bool:
        if request.target == TOKEN_PATH:
            body = {
                "responseCode": "2007300",
                "responseMessage": "Successful",
                "accessToken": "tok-1",
                "tokenType": "Bearer",
                "expiresIn": "900",
            }
            await conn.send(http_response(200, json.dumps(body).encode()))
            return True
        if service_behaviour == "hang":
            await anyio.sleep_forever()
        payload = {"responseCode": "2005100", "responseMessage": "Successful", "x": "é"}
        await conn.send(http_response(200, json.dumps(payload, ensure_ascii=False).encode()))
        return True

    return answer


@pytest.mark.anyio
async def test_client_pipeline_over_aiohttp(credentials: Credentials) -> None:
    transport = AiohttpTransport()
    async with raw_server(_fake_ayolinx("ok")) as server:
        client = AyolinxClient(credentials, base_url=server.url, transport=transport)
        async with client:
            response = await client.request(
                "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "A1"}, idempotent=True
            )
        await transport.aclose()  # the client never closes a transport it was given
    assert response.body["x"] == "é"
    token_request, service_request = server.requests
    assert token_request.target == TOKEN_PATH
    assert service_request.header("Authorization") == "Bearer tok-1"
    assert service_request.header("X-EXTERNAL-ID") == response.external_id
    assert service_request.body == b'{"originalPartnerReferenceNo":"A1"}'


@pytest.mark.anyio
async def test_timeout_on_a_money_moving_call_is_outcome_unknown(credentials: Credentials) -> None:
    transport = AiohttpTransport()
    async with raw_server(_fake_ayolinx("hang")) as server:
        client = AyolinxClient(
            credentials,
            base_url=server.url,
            transport=transport,
            timeout=Timeout(connect=1.0, total=0.3),
        )
        async with client:
            with pytest.raises(OutcomeUnknownError) as info:
                await client.request("/v1.0/qr/qr-mpm-generate", {"partnerReferenceNo": "P1"})
        await transport.aclose()
    assert info.value.partner_reference_no == "P1"
    assert len(server.requests) == 2  # token + one service attempt, never re-sent

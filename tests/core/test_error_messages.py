"""Errors say where and why (issue 14): the method and URL of a failed exchange, a hint for the
usual causes of signature and routing failures, and one line to paste to Ayolinx support."""

from __future__ import annotations

import json
import re

import attrs
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    AuthenticationError,
    AyolinxClient,
    ConnectError,
    Credentials,
    NotFoundError,
    OutcomeUnknownError,
    ResponseDecodeError,
)
from ayolinx_async.simulator import Simulator
from tests.reliability._tcp_faults import refused_port

TOKEN_BODY = {"responseCode": "2007300", "accessToken": "tok-msg-0123456789", "expiresIn": 900}
SUPPORT = re.compile(
    r"^for Ayolinx support: path=/\S+ X-EXTERNAL-ID=\S+ X-TIMESTAMP="
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00( \S+=\S+)*$"
)


def _mock(answer: httpx.Response) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access-token/b2b"):
            return httpx.Response(200, content=json.dumps(TOKEN_BODY).encode())
        return answer

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


@pytest.mark.anyio
async def test_a_transport_error_names_the_method_and_the_full_url(
    credentials: Credentials,
) -> None:
    base = f"http://127.0.0.1:{refused_port()}"
    async with AyolinxClient(credentials, base_url=base, max_retries=0) as client:
        with pytest.raises(ConnectError) as info:
            await client.request("/v1.0/qr/qr-mpm-query", {}, idempotent=True)
    text = str(info.value)
    assert text.startswith(f"cannot connect to POST {base}/v1.0/access-token/b2b: "), text
    assert info.value.url == f"{base}/v1.0/access-token/b2b"


@pytest.mark.anyio
async def test_a_wrong_private_key_gets_the_back_office_hint() -> None:
    async with Simulator() as sim:
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        wrong = attrs.evolve(sim.credentials(), private_key=pem)
        async with sim.client(credentials=wrong, max_retries=0) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.get_access_token()
    assert info.value.response_code is not None
    assert info.value.response_code.value == "4017300"
    assert "private key does not match the public key registered" in str(info.value)
    assert "ayolinx sign token" in str(info.value)


@pytest.mark.anyio
async def test_a_wrong_client_secret_gets_the_hmac_hint() -> None:
    async with Simulator() as sim:
        wrong = attrs.evolve(sim.credentials(), client_secret="not-the-secret-0123456789")
        async with sim.client(credentials=wrong, max_retries=0) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.qris.query(original_partner_reference_no="ORD-NOPE")
    text = str(info.value)
    assert info.value.case_code == "00"
    assert "check the client secret" in text
    assert "ayolinx sign service" in text
    assert SUPPORT.match(text.splitlines()[-1]), text


@pytest.mark.anyio
async def test_a_base_url_that_already_ends_in_a_path_gets_the_routing_hint() -> None:
    async with Simulator() as sim:
        client = sim.client(base_url=sim.base_url + "/v1.0", max_retries=0)
        async with client:
            with pytest.raises(NotFoundError) as info:
                await client.get_access_token()
    assert "base_url already ends in a path ('/v1.0')" in str(info.value)


@pytest.mark.anyio
async def test_an_html_page_says_a_proxy_answered(credentials: Credentials) -> None:
    page = httpx.Response(
        502, content=b"<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}
    )
    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_mock(page), max_retries=0
    ) as client:
        with pytest.raises(ResponseDecodeError) as info:
            await client.request("/v1.0/qr/qr-mpm-query", {}, idempotent=True)
    assert "a proxy, firewall or load balancer replied" in str(info.value)


@pytest.mark.anyio
async def test_api_errors_end_with_a_support_line_with_ayolinx_reference(
    credentials: Credentials,
) -> None:
    body = {"responseCode": "4044701", "responseMessage": "Not found", "referenceNo": "AYO-99"}
    answer = httpx.Response(404, content=json.dumps(body).encode())
    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_mock(answer), max_retries=0
    ) as client:
        with pytest.raises(NotFoundError) as info:
            await client.request(
                "/v1.0/qr/qr-mpm-query", {}, idempotent=True, external_id="123456789"
            )
    last = str(info.value).splitlines()[-1]
    assert SUPPORT.match(last), last
    assert "path=/v1.0/qr/qr-mpm-query X-EXTERNAL-ID=123456789 " in last
    assert last.endswith(" referenceNo=AYO-99")
    assert info.value.timestamp is not None
    assert info.value.timestamp in last
    assert info.value.hint is None  # no routing hint: the base URL has no path


@pytest.mark.anyio
async def test_outcome_unknown_ends_with_a_support_line(credentials: Credentials) -> None:
    answer = httpx.Response(500, content=b'{"responseCode":"5004700","responseMessage":"Err"}')
    async with AyolinxClient(
        credentials, base_url="https://gw.test", http_client=_mock(answer), max_retries=0
    ) as client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.request("/v1.0/qr/qr-mpm-generate", {"partnerReferenceNo": "ORD-5"})
    lines = str(info.value).splitlines()
    assert len(lines) == 2  # the cause's own support line is not repeated
    assert SUPPORT.match(lines[-1]), lines[-1]
    assert "partnerReferenceNo=ORD-5" in lines[-1]

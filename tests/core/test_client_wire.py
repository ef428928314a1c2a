"""Exact wire format of the token and service calls (through httpx.MockTransport)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import ssl

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ayolinx_async import AyolinxClient, BodyEncoding, Credentials, HttpxTransport, ValidationError
from tests._fakes import FakeAyolinx, FakeClock
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

pytestmark = pytest.mark.anyio

BODY = {
    "originalPartnerReferenceNo": "ORD/2024:ü-1",
    "additionalInfo": {"channel": "BNC_QRIS", "url": "https://m.example/cb"},
}
SERVICE_HEADERS = {
    "content-type",
    "x-timestamp",
    "x-signature",
    "x-partner-id",
    "x-external-id",
    "authorization",
}
TOKEN_HEADERS = {"content-type", "x-timestamp", "x-client-key", "x-signature"}
# What httpx itself adds; everything else on the wire is ours.
HTTPX_HEADERS = {"host", "accept", "accept-encoding", "connection", "content-length", "user-agent"}


def _hmac(secret: str, message: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), message.encode(), hashlib.sha512).digest()
    ).decode()


async def test_token_request_wire(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    fake = FakeAyolinx()
    clock = FakeClock()
    async with fake.client(credentials, clock=clock) as client:
        token = await client.get_access_token()
    assert token.value == "tok-1"
    (req,) = fake.token_requests
    assert req.method == "POST"
    assert str(req.url) == "https://sandbox.test/v1.0/access-token/b2b"
    assert set(req.headers.keys()) - HTTPX_HEADERS == TOKEN_HEADERS
    assert req.headers["content-type"] == "application/json"
    assert req.headers["x-timestamp"] == "2024-09-12T12:55:00+07:00"
    assert req.headers["x-client-key"] == CLIENT_KEY
    assert "authorization" not in req.headers
    assert "x-partner-id" not in req.headers
    assert req.content == b'{"grantType":"client_credentials"}'
    signature = base64.b64decode(req.headers["x-signature"])
    merchant_key.public_key().verify(  # raises if wrong
        signature,
        f"{CLIENT_KEY}|2024-09-12T12:55:00+07:00".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


async def test_service_request_wire(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    clock = FakeClock()
    async with fake.client(credentials, clock=clock) as client:
        result = await client.request("/v1.0/qr/qr-mpm-query", BODY, idempotent=True)
    (req,) = fake.service_requests
    assert req.method == "POST"
    assert str(req.url) == "https://sandbox.test/v1.0/qr/qr-mpm-query"
    assert set(req.headers.keys()) - HTTPX_HEADERS == SERVICE_HEADERS
    expected_body = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode()
    assert req.content == expected_body  # compact, order kept, UTF-8, "/" unescaped
    ts = req.headers["x-timestamp"]
    assert ts == "2024-09-12T12:55:00+07:00"
    assert req.headers["authorization"] == "Bearer tok-1"
    assert req.headers["x-partner-id"] == CLIENT_KEY
    ext = req.headers["x-external-id"]
    assert re.fullmatch(r"\d{1,36}", ext)
    # The signature covers exactly the bytes that arrived.
    digest = hashlib.sha256(req.content).hexdigest()
    expected = _hmac(CLIENT_SECRET, f"POST:/v1.0/qr/qr-mpm-query:tok-1:{digest}:{ts}")
    assert req.headers["x-signature"] == expected
    assert result.external_id == ext
    assert result.body["echo"] == "ok"
    assert result.response_code.value == "2005100"
    assert result.raw.startswith(b"{")


async def test_php_body_encoding_signs_the_escaped_bytes(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    async with fake.client(credentials, body_encoding=BodyEncoding.PHP) as client:
        await client.request("/v1.0/qr/qr-mpm-query", BODY, idempotent=True)
    (req,) = fake.service_requests
    assert b"https:\\/\\/m.example\\/cb" in req.content
    assert b"\\u00fc" in req.content
    digest = hashlib.sha256(req.content).hexdigest()
    ts = req.headers["x-timestamp"]
    assert req.headers["x-signature"] == _hmac(
        CLIENT_SECRET, f"POST:/v1.0/qr/qr-mpm-query:tok-1:{digest}:{ts}"
    )


async def test_external_id_per_call_and_caller_override(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    async with fake.client(credentials) as client:
        await client.request("/p", {})
        await client.request("/p", {})
        await client.request("/p", {}, external_id="123456789012")
        with pytest.raises(ValidationError, match="external_id"):
            await client.request("/p", {}, external_id="x" * 37)
    ids = [r.headers["x-external-id"] for r in fake.service_requests]
    assert len(ids) == 3
    assert ids[0] != ids[1]
    assert ids[2] == "123456789012"


async def test_timestamp_is_fresh_per_attempt(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    clock = FakeClock()
    async with fake.client(credentials, clock=clock) as client:
        await client.request("/p", {})
        clock.advance(61)
        await client.request("/p", {})
    stamps = [r.headers["x-timestamp"] for r in fake.service_requests]
    assert stamps == ["2024-09-12T12:55:00+07:00", "2024-09-12T12:56:01+07:00"]


async def test_user_http_client_is_not_closed_but_own_is(credentials: Credentials) -> None:
    fake = FakeAyolinx()
    user_http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    async with AyolinxClient(credentials, base_url="https://x.test", http_client=user_http) as c:
        await c.get_access_token()
    assert not user_http.is_closed
    await user_http.aclose()
    own = HttpxTransport(transport=httpx.MockTransport(fake))
    async with AyolinxClient(credentials, base_url="https://x.test", transport=own):
        pass
    # A transport handed in by the user is the user's to close.
    assert not own.client.is_closed
    await own.aclose()
    client = AyolinxClient(credentials, base_url="https://x.test")
    transport = client.transport
    assert isinstance(transport, HttpxTransport)
    assert transport.connection_pool is not None
    await client.aclose()
    assert transport.closed
    assert transport.connection_pool.idle == 0


async def test_default_http_client_verifies_tls_and_has_default_timeouts(
    credentials: Credentials,
) -> None:
    async with AyolinxClient(credentials) as client:
        transport = client.transport
        assert isinstance(transport, HttpxTransport)
        assert transport.timeout.connect == 5.0
        assert transport.timeout.total == 30.0
        pool = transport.connection_pool
        assert pool is not None
        assert pool.ssl_context.verify_mode == ssl.CERT_REQUIRED
        assert pool.ssl_context.check_hostname
        assert client.base_url == "https://sandbox.ayolinx.id"

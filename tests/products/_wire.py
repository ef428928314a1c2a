"""A recording fake Ayolinx behind ``httpx.MockTransport`` for the product tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from ayolinx_async import AyolinxClient, Credentials, Environment, HttpxTransport
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async._errors import ResponseCode
from ayolinx_async._response import APIResponse
from ayolinx_async._wire import JAKARTA
from ayolinx_async.models import TransactionStatus
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

#: 2024-09-18T06:36:36Z, i.e. 13:36:36 in Jakarta.
FIXED_NOW = 1726641396.0
TIMESTAMP = "2024-09-18T13:36:36+07:00"
TOKEN = "tok-product-tests"
EXTERNAL_ID = "987654321012345"
STATUS_CODES = [status.value for status in TransactionStatus] + ["99"]

Reply = Mapping[str, Any] | Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body: Mapping[str, Any]) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode())


class WireRecorder:
    """Answers the token endpoint and every service call; records what was sent."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.token_requests: list[httpx.Request] = []
        self.service_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            self.token_requests.append(request)
            return json_response(
                200,
                {
                    "responseCode": "2007300",
                    "responseMessage": "Successful",
                    "accessToken": TOKEN,
                    "tokenType": "Bearer",
                    "expiresIn": "900",
                },
            )
        self.service_requests.append(request)
        if callable(self.reply):
            return self.reply(request)
        return json_response(200, self.reply)

    @property
    def total_requests(self) -> int:
        return len(self.token_requests) + len(self.service_requests)

    @property
    def last(self) -> httpx.Request:
        assert self.service_requests, "no service request was sent"
        return self.service_requests[-1]


def make_client(
    credentials: Credentials,
    reply: Reply,
    *,
    base_url: str | None = None,
    environment: Environment = Environment.SANDBOX,
    max_retries: int = 0,
    **options: Any,
) -> tuple[AyolinxClient, WireRecorder]:
    recorder = WireRecorder(reply)
    client = AyolinxClient(
        credentials,
        environment=environment,
        base_url=base_url,
        transport=HttpxTransport(transport=httpx.MockTransport(recorder)),
        clock=lambda: FIXED_NOW,
        external_id_factory=lambda: EXTERNAL_ID,
        max_retries=max_retries,
        **options,
    )
    return client, recorder


def expected_signature(path: str, body: bytes) -> str:
    """Independent recomputation of docs/protocol.md §9 (HMAC-SHA512, Base64)."""
    digest = hashlib.sha256(body).hexdigest()
    message = f"POST:{path}:{TOKEN}:{digest}:{TIMESTAMP}".encode()
    mac = hmac.new(CLIENT_SECRET.encode(), message, hashlib.sha512).digest()
    return base64.b64encode(mac).decode()


def assert_wire(
    request: httpx.Request,
    *,
    path: str,
    body: Mapping[str, Any],
    external_id: str = EXTERNAL_ID,
    base: str = "https://sandbox.ayolinx.id",
) -> None:
    """The exact URL, the SNAP header set with a valid signature, and the body (in order)."""
    assert request.method == "POST"
    assert str(request.url) == base + path
    content = request.content
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-timestamp"] == TIMESTAMP
    assert headers["x-partner-id"] == CLIENT_KEY
    assert headers["x-external-id"] == external_id
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-signature"] == expected_signature(path, content)
    assert "x-client-key" not in headers
    decoded = json.loads(content)
    assert decoded == body
    assert list(decoded) == list(body), "field order on the wire"
    # Compact JSON, hashed and sent as the same bytes (docs/protocol.md §9).
    assert content == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def api_response(body: Mapping[str, Any], *, path: str = "/x") -> APIResponse:
    """An ``APIResponse`` as the client would build it, for parsing tests."""
    raw = json.dumps(body).encode()
    return APIResponse(
        http_status=200,
        response_code=ResponseCode.parse(body.get("responseCode")),
        response_message=str(body.get("responseMessage") or ""),
        body=json.loads(raw),
        raw=raw,
        external_id=EXTERNAL_ID,
        path=path,
    )


def jakarta(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware datetime in Asia/Jakarta (+07:00)."""
    return datetime(year, month, day, hour, minute, tzinfo=JAKARTA)

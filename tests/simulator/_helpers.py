"""Shared helpers for simulator tests: a raw SNAP caller (to tamper with every part of a request)
and a recording merchant ASGI app (to receive callbacks in process)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._wire import encode_body, format_timestamp, new_external_id
from ayolinx_async.signing import (
    callback_string_to_sign,
    hmac_signature,
    rsa_signature,
    service_string_to_sign,
    token_string_to_sign,
    verify_rsa,
)
from ayolinx_async.simulator import Simulator

TOKEN_PATH = "/v1.0/access-token/b2b"
ACK = {"responseCode": "2005600", "responseMessage": "Successful"}

#: Headers of a browser's form post and page request.
FORM = {"content-type": "application/x-www-form-urlencoded"}
HTML = {"accept": "text/html,application/xhtml+xml"}


def qr_body(reference: str = "ORD-1", value: str = "10000.00", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerReferenceNo": reference,
        "amount": {"value": value, "currency": "IDR"},
        "additionalInfo": {"channel": "BNC_QRIS"},
    }
    body.update(extra)
    return body


class RawCaller:
    """Builds and signs SNAP requests by hand so each part can be broken on purpose."""

    def __init__(
        self,
        sim: Simulator,
        *,
        client_key: str,
        client_secret: str,
        private_key: rsa.RSAPrivateKey,
        clock: Any,
    ) -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sim), base_url="http://ayolinx.simulator"
        )
        self.client_key = client_key
        self.client_secret = client_secret
        self.private_key = private_key
        self.clock = clock

    async def aclose(self) -> None:
        await self.http.aclose()

    def timestamp(self) -> str:
        return format_timestamp(self.clock())

    async def token_response(
        self,
        *,
        client_key: str | None = None,
        sign_client_key: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        timestamp: str | None = None,
        body: bytes = b'{"grantType":"client_credentials"}',
        omit: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        ts = timestamp or self.timestamp()
        ck = client_key or self.client_key
        signature = rsa_signature(
            key or self.private_key, token_string_to_sign(sign_client_key or ck, ts)
        )
        all_headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": ts,
            "X-CLIENT-KEY": ck,
            "X-SIGNATURE": signature,
        }
        all_headers.update(headers or {})
        for name in omit:
            all_headers.pop(name)
        return await self.http.post(TOKEN_PATH, content=body, headers=all_headers)

    async def token(self) -> str:
        response = await self.token_response()
        assert response.status_code == 200, response.text
        value = response.json()["accessToken"]
        assert isinstance(value, str)
        return value

    async def call(
        self,
        path: str,
        body: Mapping[str, Any] | bytes,
        *,
        token: str,
        external_id: str | None = None,
        timestamp: str | None = None,
        partner_id: str | None = None,
        secret: str | None = None,
        signed_body: bytes | None = None,
        signed_path: str | None = None,
        omit: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        content = encode_body(body)
        ts = timestamp or self.timestamp()
        message = service_string_to_sign(
            "POST",
            signed_path or path,
            token,
            signed_body if signed_body is not None else content,
            ts,
        )
        all_headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": ts,
            "X-SIGNATURE": hmac_signature(secret or self.client_secret, message),
            "X-PARTNER-ID": partner_id or self.client_key,
            "X-EXTERNAL-ID": external_id or new_external_id(),
            "Authorization": f"Bearer {token}",
        }
        all_headers.update(headers or {})
        for name in omit:
            all_headers.pop(name)
        return await self.http.request(method, path, content=content, headers=all_headers)


@attrs.define
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class MerchantApp:
    """A merchant's callback endpoint as a raw ASGI app.

    Answers from ``script`` (a list of ``(status, body bytes)``) in order, then ``default``.
    Records every request.
    """

    def __init__(self, default: tuple[int, bytes] = (200, json.dumps(ACK).encode())) -> None:
        self.default = default
        self.script: list[tuple[int, bytes]] = []
        self.received: list[Received] = []
        self.routes: dict[str, Any] = {}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(path=scope["path"], headers=headers, body=body))
        route = self.routes.get(scope["path"])
        if route is not None:
            status, payload = route(headers, body)
        elif self.script:
            status, payload = self.script.pop(0)
        else:
            status, payload = self.default
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def callback_signature_ok(key: rsa.RSAPublicKey, received: Received) -> bool:
    """Verify a non-SNAP callback the way a merchant must (docs/protocol.md §10.1)."""
    message = callback_string_to_sign(
        "POST", received.path, received.body, received.headers["x-timestamp"]
    )
    return verify_rsa(key, message, received.headers["x-signature"])

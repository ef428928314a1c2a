"""A scriptable fake Ayolinx behind ``httpx.MockTransport`` for core tests (no simulator needed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from ayolinx_async import AyolinxClient, Credentials, HttpxTransport
from ayolinx_async._client import TOKEN_PATH

Responder = Callable[[httpx.Request], httpx.Response]

#: A successful B2B token answer (fixed token ``tok``), for tests that script their own server.
TOKEN_ANSWER: dict[str, Any] = {
    "responseCode": "2007300",
    "responseMessage": "Successful",
    "accessToken": "tok",
    "tokenType": "Bearer",
    "expiresIn": "900",
}


def json_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


class FakeAyolinx:
    """Counts requests; issues tokens ``tok-1``, ``tok-2`` …; answers via ``service``."""

    def __init__(self, *, expires_in: Any = "900", token_delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.token_delay = token_delay
        self.token_requests: list[httpx.Request] = []
        self.service_requests: list[httpx.Request] = []
        self.token_failures = 0  # fail this many token requests with a 503 first
        self.service: Responder = lambda request: json_response(
            200, {"responseCode": "2005100", "responseMessage": "Successful", "echo": "ok"}
        )
        self.token_responder: Responder | None = None
        #: Set when a token request arrives (tests that act while a fetch is in flight).
        self.token_seen: anyio.Event | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            self.token_requests.append(request)
            if self.token_seen is not None:
                self.token_seen.set()
            if self.token_delay:
                await anyio.sleep(self.token_delay)
            if self.token_failures > 0:
                self.token_failures -= 1
                return json_response(503, {"responseCode": "5037300", "responseMessage": "Down"})
            if self.token_responder is not None:
                return self.token_responder(request)
            return json_response(
                200,
                {
                    "responseCode": "2007300",
                    "responseMessage": "Successful",
                    "accessToken": f"tok-{len(self.token_requests)}",
                    "tokenType": "Bearer",
                    "expiresIn": self.expires_in,
                },
            )
        self.service_requests.append(request)
        return self.service(request)

    def client(self, credentials: Credentials, **kwargs: Any) -> AyolinxClient:
        kwargs.setdefault("sleep", _no_sleep)
        return AyolinxClient(
            credentials,
            base_url="https://sandbox.test",
            transport=HttpxTransport(transport=httpx.MockTransport(self)),
            **kwargs,
        )


async def _no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


class FakeClock:
    """A settable epoch clock."""

    def __init__(self, start: float = 1_726_120_500.0) -> None:  # 2024-09-12T12:55:00+07:00
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

"""A small, strict stand-in for Ayolinx behind ``httpx.MockTransport`` for the reliability suite.

Unlike ``tests._fakes.FakeAyolinx`` it checks what a real gateway checks: the RSA token
signature, the HMAC service signature, the X-TIMESTAMP window (clock skew), token expiry and
revocation, duplicate X-EXTERNAL-IDs (a re-send of the same bytes is replayed, different bytes
are a 409) and a ledger of QRIS transactions so a status query tells the truth.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import anyio
import attrs
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient, Credentials, HttpxTransport
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.signing import verify_hmac, verify_rsa
from ayolinx_async.testing import FaultInjectingTransport
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

BASE_URL = "https://gateway.test"
GENERATE = "/v1.0/qr/qr-mpm-generate"
QUERY = "/v1.0/qr/qr-mpm-query"
CANCEL = "/v1.0/qr/qr-mpm-cancel"
_SERVICE_CODES = {GENERATE: "47", QUERY: "51", CANCEL: "77", TOKEN_PATH: "73"}


def _answer(status: int, body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )


def _error(status: int, path: str, case: str, message: str) -> httpx.Response:
    code = f"{status}{_SERVICE_CODES.get(path, '00')}{case}"
    return _answer(status, {"responseCode": code, "responseMessage": message})


class Gateway:
    """Verifies and answers token and QRIS calls; every knob is a plain attribute."""

    def __init__(
        self,
        merchant_public_key: rsa.RSAPublicKey,
        *,
        clock: Callable[[], float],
        token_lifetime: float = 900.0,
        skew_window: float = 300.0,
        tick: float = 0.0,
        yield_per_request: bool = False,
    ) -> None:
        self.public_key = merchant_public_key
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.skew_window = skew_window
        #: Seconds the shared clock advances per received service request (needs ``advance``).
        self.tick = tick
        self.advance: Callable[[float], None] | None = None
        self.yield_per_request = yield_per_request
        #: Called when a token request arrives (e.g. ``anyio.Event().set``).
        self.on_token: Callable[[], None] | None = None
        self.tokens: dict[str, float] = {}  # value -> expiry (server clock)
        self.issued: list[str] = []
        self.token_requests = 0
        self.service_requests = 0
        self.rejections: dict[str, int] = {}
        self.ledger: dict[str, str] = {}  # partnerReferenceNo -> latestTransactionStatus
        self._seen_ids: dict[str, tuple[bytes, httpx.Response]] = {}

    # -- knobs -------------------------------------------------------------------------------

    def revoke_all(self) -> None:
        """Invalidate every issued token now (a key rotation on Ayolinx's side)."""
        self.tokens.clear()

    def set_status(self, reference: str, status: str) -> None:
        self.ledger[reference] = status

    # -- the server --------------------------------------------------------------------------

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.yield_per_request:
            await anyio.lowlevel.checkpoint()
        path = request.url.path
        if path == TOKEN_PATH:
            return self._token(request)
        return self._service(request, path)

    def _reject(self, reason: str, response: httpx.Response) -> httpx.Response:
        self.rejections[reason] = self.rejections.get(reason, 0) + 1
        return response

    def _timestamp_ok(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            sent = datetime.fromisoformat(value).timestamp()
        except ValueError:
            return False
        return abs(sent - self.clock()) <= self.skew_window

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        if self.on_token is not None:
            self.on_token()
        timestamp = request.headers.get("x-timestamp")
        if request.headers.get("x-client-key") != CLIENT_KEY:
            return self._reject("client-key", _error(401, TOKEN_PATH, "00", "Unauthorized"))
        if not self._timestamp_ok(timestamp):
            return self._reject(
                "timestamp", _error(401, TOKEN_PATH, "00", "Unauthorized. Invalid timestamp")
            )
        message = f"{CLIENT_KEY}|{timestamp}"
        if not verify_rsa(self.public_key, message, request.headers.get("x-signature", "")):
            return self._reject(
                "signature", _error(401, TOKEN_PATH, "00", "Unauthorized. Invalid signature")
            )
        value = base64.urlsafe_b64encode(secrets.token_bytes(30)).decode()
        self.tokens[value] = self.clock() + self.token_lifetime
        self.issued.append(value)
        return _answer(
            200,
            {
                "responseCode": "2007300",
                "responseMessage": "Successful",
                "accessToken": value,
                "tokenType": "Bearer",
                "expiresIn": str(int(self.token_lifetime)),
            },
        )

    def _service(self, request: httpx.Request, path: str) -> httpx.Response:
        self.service_requests += 1
        if self.tick and self.advance is not None:
            self.advance(self.tick)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        expiry = self.tokens.get(token)
        if not auth.startswith("Bearer ") or expiry is None or self.clock() >= expiry:
            return self._reject("token", _error(401, path, "01", "Invalid Token (B2B)"))
        timestamp = request.headers.get("x-timestamp")
        if not self._timestamp_ok(timestamp):
            return self._reject("timestamp", _error(401, path, "00", "Unauthorized. Timestamp"))
        digest = hashlib.sha256(request.content).hexdigest()
        message = f"POST:{path}:{token}:{digest}:{timestamp}"
        if not verify_hmac(CLIENT_SECRET, message, request.headers.get("x-signature", "")):
            return self._reject("signature", _error(401, path, "00", "Unauthorized. Signature"))
        external_id = request.headers.get("x-external-id", "")
        seen = self._seen_ids.get(external_id)
        if seen is not None:
            if seen[0] == request.content:
                return seen[1]  # an idempotent re-send: replay the first answer
            return self._reject("external-id", _error(409, path, "00", "Conflict"))
        response = self._act(path, json.loads(request.content))
        self._seen_ids[external_id] = (request.content, response)
        return response

    def _act(self, path: str, body: dict[str, Any]) -> httpx.Response:
        if path == GENERATE:
            reference = body["partnerReferenceNo"]
            if reference in self.ledger:
                return _error(409, path, "01", "Duplicate partnerReferenceNo")
            self.ledger[reference] = "01"
            return _answer(
                200,
                {
                    "responseCode": "2004700",
                    "responseMessage": "Successful",
                    "partnerReferenceNo": reference,
                    "qrContent": "00020101021226" + reference,
                },
            )
        if path in (QUERY, CANCEL):
            reference = body["originalPartnerReferenceNo"]
            status = self.ledger.get(reference)
            if status is None:
                return _error(404, path, "01", "Transaction Not Found")
            if path == CANCEL:
                self.ledger[reference] = status = "05"
                return _answer(
                    200,
                    {
                        "responseCode": "2007700",
                        "responseMessage": "Successful",
                        "originalPartnerReferenceNo": reference,
                    },
                )
            return _answer(
                200,
                {
                    "responseCode": "2005100",
                    "responseMessage": "Successful",
                    "originalPartnerReferenceNo": reference,
                    "originalReferenceNo": "AYO" + reference,
                    "latestTransactionStatus": status,
                    "additionalInfo": {"channel": body.get("additionalInfo", {}).get("channel")},
                },
            )
        return _answer(200, {"responseCode": "2000000", "responseMessage": "Successful"})


class Clock:
    """A settable epoch clock shared by the client and the gateway."""

    def __init__(self, start: float = 1_726_120_500.0) -> None:  # 2024-09-12T12:55:00+07:00
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """A ``sleep=`` for the client that records backoff delays and advances the fake clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.delays: list[float] = []
        self._clock = clock

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self._clock is not None:
            self._clock.advance(seconds)
        await anyio.lowlevel.checkpoint()


@attrs.frozen(kw_only=True)
class Rig:
    """A client wired to a fresh :class:`Gateway` through a :class:`FaultInjectingTransport`."""

    client: AyolinxClient
    faults: FaultInjectingTransport
    gateway: Gateway
    sleeps: Sleeps
    clock: Clock

    def attempts(self, path: str) -> int:
        """Requests the client made to ``path`` (one per attempt, whatever happened to it)."""
        return len(self.faults.records_for(path))

    async def query(self, reference: str) -> Any:
        """A read-only call: ``client.qris.query``."""
        return await self.client.qris.query(original_partner_reference_no=reference)

    async def generate(self, reference: str, amount: str = "10000") -> Any:
        """A money-moving call: ``client.qris.generate``."""
        return await self.client.qris.generate(partner_reference_no=reference, amount=amount)

    async def call(self, kind: str, reference: str) -> Any:
        """``query`` for ``kind="read-only"``, ``generate`` for ``"money-moving"``."""
        if kind == "read-only":
            return await self.query(reference)
        return await self.generate(reference)

    @staticmethod
    def path(kind: str) -> str:
        return QUERY if kind == "read-only" else GENERATE


@contextlib.asynccontextmanager
async def rig(
    credentials: Credentials,
    merchant_key: rsa.RSAPrivateKey,
    *,
    clock: Clock | None = None,
    client_clock: Callable[[], float] | None = None,
    gateway_options: dict[str, Any] | None = None,
    **client_options: Any,
) -> AsyncIterator[Rig]:
    """A client talking to a fresh :class:`Gateway` through a :class:`FaultInjectingTransport`
    over the real ``HttpxTransport`` (so its exception mapping is exercised too)."""
    clock = clock or Clock()
    gateway = Gateway(merchant_key.public_key(), clock=clock, **(gateway_options or {}))
    gateway.advance = clock.advance
    faults = FaultInjectingTransport(HttpxTransport(transport=httpx.MockTransport(gateway)))
    sleeps = Sleeps(clock)
    client_options.setdefault("sleep", sleeps)
    client = AyolinxClient(
        credentials,
        base_url=BASE_URL,
        transport=faults,
        clock=client_clock or clock,
        **client_options,
    )
    try:
        async with client:
            yield Rig(client=client, faults=faults, gateway=gateway, sleeps=sleeps, clock=clock)
    finally:
        await faults.aclose()

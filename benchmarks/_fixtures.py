"""Shared benchmark fixtures: keys, canned Ayolinx answers, and the hand-written baselines.

The baselines are the floor: what a careful developer writes by hand with bare httpx or aiohttp
for one signed ``qris.query`` (same signing, same headers, same JSON check), with nothing that
a general SDK needs (retries, hooks, typed errors, validation).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import aiohttp
import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ayolinx_async import AyolinxClient, Credentials, HttpxTransport
from ayolinx_async._client import TOKEN_PATH

QUERY_PATH = "/v1.0/qr/qr-mpm-query"
REFERENCE = "ORDER-20240918-0001"
CLIENT_KEY = "CKBench-154dc98b-f8ea-4a68-a9f7-6f4e8963b86c"
CLIENT_SECRET = "SKBench-5ecret-8a1b-4c2d-9e3f-0a1b2c3d4e5f"
BASE_URL = "https://sandbox.bench"
ACCESS_TOKEN = "gp9HjjEj813Y9JGoqwOeOPWbnt4CUpvIJbU1mMU4a11MNDZ7Sg5u9a"

TOKEN_BODY = json.dumps(
    {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": ACCESS_TOKEN,
        "tokenType": "Bearer",
        "expiresIn": "900",
    }
).encode()

QUERY_BODY = json.dumps(
    {
        "responseCode": "2005100",
        "responseMessage": "Successful",
        "originalReferenceNo": "A120240918133636123456789",
        "originalPartnerReferenceNo": REFERENCE,
        "latestTransactionStatus": "00",
        "transactionStatusDesc": "Success",
        "finishedTime": "2024-09-18T13:40:00+07:00",
        "amount": {"value": "10000.00", "currency": "IDR"},
        "additionalInfo": {"channel": "BNC_QRIS"},
    }
).encode()

_JSON = {"content-type": "application/json"}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def credentials(key: rsa.RSAPrivateKey) -> Credentials:
    return Credentials(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=key)


class CannedAyolinx:
    """Canned token and query answers for ``httpx.MockTransport``, counting requests.

    :meth:`handle` yields to the event loop once per request, as a real socket read does:
    without that a whole benchmark runs inside one loop iteration and the loop never gets to
    its housekeeping (e.g. purging cancelled timers), which no real deployment looks like.
    """

    def __init__(self) -> None:
        self.token_requests = 0
        self.service_requests = 0

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            self.token_requests += 1
            return httpx.Response(200, content=TOKEN_BODY, headers=_JSON)
        self.service_requests += 1
        return httpx.Response(200, content=QUERY_BODY, headers=_JSON)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        return self.answer(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def mock_sdk_client(key: rsa.RSAPrivateKey, mock: httpx.MockTransport) -> AyolinxClient:
    """The SDK as a user builds it, over an in-process transport."""
    return AyolinxClient(
        credentials(key), base_url=BASE_URL, transport=HttpxTransport(transport=mock)
    )


async def sdk_query(client: AyolinxClient) -> object:
    """One signed QRIS status query through the SDK's typed API."""
    return await client.qris.query(original_partner_reference_no=REFERENCE)


class BareSigner:
    """Inline SNAP signing as a hand-written integration does it (spec §5.1, §5.2)."""

    def __init__(self, base_url: str, key: rsa.RSAPrivateKey) -> None:
        self.base_url = base_url
        self._key = key
        self._mac = hmac.new(CLIENT_SECRET.encode(), digestmod=hashlib.sha512)
        self.token = ""

    @staticmethod
    def _timestamp() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S+07:00", time.gmtime(time.time() + 7 * 3600))

    def token_headers(self) -> dict[str, str]:
        timestamp = self._timestamp()
        raw = self._key.sign(
            f"{CLIENT_KEY}|{timestamp}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-CLIENT-KEY": CLIENT_KEY,
            "X-SIGNATURE": base64.b64encode(raw).decode(),
        }

    def query_request(self, reference: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {"originalPartnerReferenceNo": reference, "additionalInfo": {"channel": "BNC_QRIS"}},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        timestamp = self._timestamp()
        digest = hashlib.sha256(body).hexdigest()
        mac = self._mac.copy()
        mac.update(f"POST:{QUERY_PATH}:{self.token}:{digest}:{timestamp}".encode())
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": base64.b64encode(mac.digest()).decode(),
            "X-PARTNER-ID": CLIENT_KEY,
            "X-EXTERNAL-ID": f"{time.time_ns() // 1_000_000:013d}{secrets.randbelow(10**20):020d}",
            "Authorization": f"Bearer {self.token}",
        }
        return body, headers


def _checked(status: int, content: bytes, expected: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(content)
    if status != 200 or data.get("responseCode") != expected:
        raise RuntimeError(f"unexpected answer: HTTP {status} {data.get('responseCode')}")
    return data


class BareHttpx:
    """The floor with httpx: one ``AsyncClient``, signing inline, bytes out, JSON in."""

    def __init__(self, base_url: str, key: rsa.RSAPrivateKey, http: httpx.AsyncClient) -> None:
        self._signer = BareSigner(base_url, key)
        self._http = http
        self._url = base_url + QUERY_PATH

    async def fetch_token(self) -> None:
        response = await self._http.post(
            self._signer.base_url + TOKEN_PATH,
            content=b'{"grantType":"client_credentials"}',
            headers=self._signer.token_headers(),
        )
        self._signer.token = _checked(response.status_code, response.content, "2007300")[
            "accessToken"
        ]

    async def query(self, reference: str = REFERENCE) -> dict[str, Any]:
        body, headers = self._signer.query_request(reference)
        response = await self._http.post(self._url, content=body, headers=headers)
        return _checked(response.status_code, response.content, "2005100")

    async def aclose(self) -> None:
        await self._http.aclose()


class BareAiohttp:
    """The floor with aiohttp (asyncio only): one ``ClientSession``, signing inline."""

    def __init__(self, base_url: str, key: rsa.RSAPrivateKey, session: aiohttp.ClientSession):
        self._signer = BareSigner(base_url, key)
        self._session = session
        self._url = base_url + QUERY_PATH

    async def fetch_token(self) -> None:
        async with self._session.post(
            self._signer.base_url + TOKEN_PATH,
            data=b'{"grantType":"client_credentials"}',
            headers=self._signer.token_headers(),
        ) as response:
            content = await response.read()
        self._signer.token = _checked(response.status, content, "2007300")["accessToken"]

    async def query(self, reference: str = REFERENCE) -> dict[str, Any]:
        body, headers = self._signer.query_request(reference)
        async with self._session.post(self._url, data=body, headers=headers) as response:
            content = await response.read()
        return _checked(response.status, content, "2005100")

    async def aclose(self) -> None:
        await self._session.close()

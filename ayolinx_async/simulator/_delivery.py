"""Callback delivery: signed notifications, the SNAP VA flow, the retry schedule
(docs/protocol.md §18).

A delivery succeeds only on HTTP 2xx with a JSON body. Otherwise it is retried after 1 min,
5 min, 10 min and 1 h (each multiplied by ``time_scale``), then abandoned. Every attempt is
recorded.
"""

from __future__ import annotations

import enum
import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import attrs
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from .._endpoints import CallbackPath
from .._wire import format_timestamp, new_external_id
from ..signing._strings import callback_string_to_sign, service_string_to_sign, token_string_to_sign
from ..signing._verify import hmac_signature, rsa_signature
from ._accounts import MerchantAccount
from ._asgi import encode_json
from ._desk import iso_jakarta
from ._ledger import LookupFailed

__all__ = [
    "DEFAULT_SCHEDULE",
    "Courier",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryKind",
    "DeliveryState",
    "Job",
    "redelivery",
]

#: Waits before retries 1-4, in seconds (docs/protocol.md §18.1).
DEFAULT_SCHEDULE: tuple[float, ...] = (60.0, 300.0, 600.0, 3600.0)
_KEEP_RESPONSE = 2000


class DeliveryKind(enum.StrEnum):
    """``notify``: one RSA-signed POST. ``snap_va``: merchant token, then the VA payment."""

    NOTIFY = "notify"
    SNAP_VA = "snap_va"


class DeliveryState(enum.StrEnum):
    """Where one callback delivery stands: still retrying, acknowledged 2xx, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@attrs.frozen(kw_only=True, slots=True)
class DeliveryAttempt:
    """One try. ``delay_before`` is the nominal (unscaled) wait that preceded it; ``step`` says
    which request the outcome belongs to (``notify``, or ``token``/``payment`` for SNAP VA).
    ``request_headers``/``request_body`` are what was sent, signature included (a merchant's
    Bearer token shown as ``***``), for the console."""

    number: int
    at: float
    delay_before: float
    step: str
    url: str
    status_code: int | None
    response: str
    error: str | None
    ok: bool
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: bytes = attrs.field(default=b"", repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": iso_jakarta(self.at),
            "delayBefore": self.delay_before,
            "step": self.step,
            "url": self.url,
            "statusCode": self.status_code,
            "response": self.response,
            "error": self.error,
            "ok": self.ok,
            "request": {
                "headers": dict(self.request_headers),
                "body": self.request_body.decode("utf-8", "replace"),
            },
        }


@attrs.frozen(kw_only=True, slots=True)
class Delivery:
    """A read-only view of one callback and all its attempts."""

    id: str
    reference_no: str
    partner_reference_no: str
    kind: DeliveryKind
    url: str
    latest_status: str
    body: bytes
    state: DeliveryState
    attempts: tuple[DeliveryAttempt, ...]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "referenceNo": self.reference_no,
            "partnerReferenceNo": self.partner_reference_no,
            "kind": self.kind.value,
            "url": self.url,
            "latestTransactionStatus": self.latest_status,
            "body": self.payload,
            "state": self.state.value,
            "attempts": [a.to_json() for a in self.attempts],
        }


@attrs.define(slots=True, eq=False)
class Job:
    """A delivery in progress: its public view so far, which each attempt replaces, plus the
    merchant account and token URL the courier signs with."""

    delivery: Delivery
    account: MerchantAccount
    token_url: str | None = None

    def record(self, attempt: DeliveryAttempt, state: DeliveryState) -> None:
        """Add ``attempt`` to the public view and set where the delivery now stands."""
        attempts = (*self.delivery.attempts, attempt)
        self.delivery = attrs.evolve(self.delivery, attempts=attempts, state=state)


def redelivery(jobs: Sequence[Job], delivery_id: str, next_id: Callable[[], str]) -> Job:
    """A new job that sends delivery ``delivery_id``'s callback again: same URL, kind and body
    (signed afresh when sent), a new id, no attempts. The original is left as it is."""
    for job in jobs:
        if job.delivery.id == delivery_id:
            fresh = attrs.evolve(
                job.delivery, id=next_id(), state=DeliveryState.PENDING, attempts=()
            )
            return attrs.evolve(job, delivery=fresh)
    raise LookupFailed(f"no delivery with id {delivery_id!r}")


@attrs.define(slots=True)
class _StepResult:
    status_code: int | None
    response: str
    error: str | None
    data: Any = None
    sent_headers: tuple[tuple[str, str], ...] = ()
    sent_body: bytes = b""

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.status_code is not None
            and 200 <= self.status_code < 300
            and self.data is not None
        )


class Courier:
    """Performs deliveries. Owns the merchant tokens it obtained for the SNAP VA flow."""

    def __init__(
        self,
        *,
        signing_key: rsa.RSAPrivateKey,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        time_scale: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        if any(delay < 0 for delay in schedule):
            raise ValueError("retry delays must not be negative")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._key = signing_key
        self._clock = clock
        self._sleep = sleep
        self.schedule = tuple(schedule)
        self.time_scale = time_scale
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._merchant_tokens: dict[str, tuple[str, float]] = {}
        self._token_locks: dict[str, anyio.Lock] = {}

    def next_id(self) -> str:
        return f"dlv-{next(self._ids):06d}"

    async def run(self, job: Job, client: httpx.AsyncClient) -> None:
        """Try ``job`` until it succeeds or the schedule is exhausted."""
        delays = (0.0, *self.schedule)
        for number, delay in enumerate(delays, start=1):
            if delay > 0 and self.time_scale > 0:
                await self._sleep(delay * self.time_scale)
            attempt = await self._attempt(job, client, number, delay)
            if attempt.ok:
                job.record(attempt, DeliveryState.DELIVERED)
                return
            last = number == len(delays)
            job.record(attempt, DeliveryState.FAILED if last else DeliveryState.PENDING)

    async def _attempt(
        self, job: Job, client: httpx.AsyncClient, number: int, delay: float
    ) -> DeliveryAttempt:
        at = self._clock()
        if job.delivery.kind is DeliveryKind.SNAP_VA:
            step, url, result = await self._snap_va(job, client)
        else:
            step, url, result = "notify", job.delivery.url, await self._notify(job, client)
        return DeliveryAttempt(
            number=number,
            at=at,
            delay_before=delay,
            step=step,
            url=url,
            status_code=result.status_code,
            response=result.response,
            error=result.error,
            ok=result.ok,
            request_headers=result.sent_headers,
            request_body=result.sent_body,
        )

    async def _post(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes
    ) -> _StepResult:
        """Send one signed request; the result keeps what was sent, for the console."""
        result = await self._exchange(client, url, headers, body)
        # The merchant's live token never leaves the courier (like its token answers below).
        result.sent_headers = tuple(
            (name, "Bearer ***" if name.lower() == "authorization" else value)
            for name, value in headers.items()
        )
        result.sent_body = body
        return result

    async def _exchange(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes
    ) -> _StepResult:
        try:
            with anyio.fail_after(self._timeout):
                response = await client.post(url, content=body, headers=headers)
        except TimeoutError:
            return _StepResult(None, "", f"no answer within {self._timeout}s")
        except Exception as exc:  # a merchant app run in process may raise anything
            return _StepResult(None, "", f"{type(exc).__name__}: {exc}")
        text = response.content.decode("utf-8", "replace")[:_KEEP_RESPONSE]
        try:
            data: Any = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            return _StepResult(response.status_code, text, None, None)
        return _StepResult(response.status_code, text, None, data)

    async def _notify(self, job: Job, client: httpx.AsyncClient) -> _StepResult:
        """Non-SNAP notify: SHA256withRSA over ``POST:<merchant path>:<sha256 body>:<ts>``."""
        timestamp = format_timestamp(self._clock())
        path = urlsplit(job.delivery.url).path or "/"
        signature = rsa_signature(
            self._key, callback_string_to_sign("POST", path, job.delivery.body, timestamp)
        )
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": signature,
        }
        return await self._post(client, job.delivery.url, headers, job.delivery.body)

    async def _merchant_token(
        self, job: Job, token_url: str, client: httpx.AsyncClient
    ) -> tuple[str | None, _StepResult]:
        """A token from the merchant's own token endpoint (cached until its expiry; concurrent
        deliveries to one merchant share a single token request)."""
        lock = self._token_locks.setdefault(token_url, anyio.Lock())
        async with lock:
            return await self._merchant_token_locked(job, token_url, client)

    async def _merchant_token_locked(
        self, job: Job, token_url: str, client: httpx.AsyncClient
    ) -> tuple[str | None, _StepResult]:
        cached = self._merchant_tokens.get(token_url)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0], _StepResult(200, "", None, {})
        account = job.account
        timestamp = format_timestamp(now)
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-CLIENT-KEY": account.client_key,
            "X-SIGNATURE": rsa_signature(
                self._key, token_string_to_sign(account.client_key, timestamp)
            ),
        }
        # The documented body (ZH page): snake-case grant_type and an odd additionalInfo.
        body = encode_json(
            {
                "grant_type": "client_credentials",
                "additionalInfo": {"channel": 13, "client_id": account.client_key},
            }
        )
        result = await self._post(client, token_url, headers, body)
        if isinstance(result.data, dict) and "accessToken" in result.data:
            # Attempts are shown over the admin routes: never keep the merchant's token there.
            result.response = encode_json({**result.data, "accessToken": "***"}).decode()
        if not result.ok or not isinstance(result.data, dict):
            return None, result
        token = result.data.get("accessToken")
        if not isinstance(token, str) or not token:
            result.error = "token answer has no accessToken"
            return None, result
        try:
            lifetime = float(result.data.get("expiresIn", 900))
        except (TypeError, ValueError):
            lifetime = 0.0
        if lifetime > 0:
            self._merchant_tokens[token_url] = (token, now + lifetime * 0.9)
        return token, result

    async def _snap_va(self, job: Job, client: httpx.AsyncClient) -> tuple[str, str, _StepResult]:
        """Merchant token, then ``POST /v1.0/transfer-va/payment`` signed HMAC-SHA512."""
        token_url = job.token_url or _origin(job.delivery.url) + CallbackPath.MERCHANT_TOKEN
        token, token_result = await self._merchant_token(job, token_url, client)
        if token is None:
            return "token", token_url, token_result
        timestamp = format_timestamp(self._clock())
        path = urlsplit(job.delivery.url).path or "/"
        message = service_string_to_sign("POST", path, token, job.delivery.body, timestamp)
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": hmac_signature(job.account.client_secret, message),
            "X-PARTNER-ID": job.account.client_key,
            "X-EXTERNAL-ID": new_external_id(),
            "Authorization": f"Bearer {token}",
        }
        result = await self._post(client, job.delivery.url, headers, job.delivery.body)
        if result.status_code == 401:
            # The merchant no longer accepts the token: fetch a new one on the next try.
            self._merchant_tokens.pop(token_url, None)
        return "payment", job.delivery.url, result


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

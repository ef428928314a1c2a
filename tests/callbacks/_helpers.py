"""Test-side Ayolinx: signs callbacks the way Ayolinx does and builds each product's body."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async._endpoints import CallbackPath
from ayolinx_async._wire import format_timestamp
from ayolinx_async.callbacks import CallbackEvent, CallbackHandler, CallbackResponse
from ayolinx_async.signing import (
    callback_string_to_sign,
    hmac_signature,
    rsa_signature,
    service_string_to_sign,
    token_string_to_sign,
)
from tests.conftest import CLIENT_KEY, CLIENT_SECRET

__all__ = [
    "CLIENT_KEY",
    "CLIENT_SECRET",
    "NOTIFY_PATH",
    "TOKEN_PATH",
    "VA_PATH",
    "FakeClock",
    "Recorder",
    "encode",
    "ewallet_body",
    "issue_token",
    "make_handler",
    "notify_headers",
    "payment_link_body",
    "qris_body",
    "retail_body",
    "send_notify",
    "send_va_payment",
    "token_body",
    "token_headers",
    "va_notify_body",
    "va_payment_body",
    "va_payment_headers",
]

NOTIFY_PATH = CallbackPath.NOTIFY_DEFAULT.value
TOKEN_PATH = CallbackPath.MERCHANT_TOKEN.value
VA_PATH = CallbackPath.SNAP_VA_PAYMENT.value


@attrs.define
class FakeClock:
    """An injectable clock (epoch seconds) that tests move by hand."""

    now: float = attrs.field(factory=lambda: float(int(time.time())))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def stamp(self, offset: float = 0.0) -> str:
        return format_timestamp(self.now + offset)


@attrs.define
class Recorder:
    """A listener that records events; ``fail`` makes the next N calls raise."""

    events: list[CallbackEvent] = attrs.field(factory=list)
    calls: int = 0
    fail: int = 0

    async def __call__(self, event: CallbackEvent) -> None:
        self.calls += 1
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("merchant database is down")
        self.events.append(event)


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def notify_headers(
    key: rsa.RSAPrivateKey,
    body: bytes,
    timestamp: str,
    *,
    path: str = NOTIFY_PATH,
    method: str = "POST",
) -> dict[str, str]:
    """What Ayolinx sends with a non-SNAP notify (docs/protocol.md §10.1)."""
    signature = rsa_signature(key, callback_string_to_sign(method, path, body, timestamp))
    return {"Content-Type": "application/json", "X-TIMESTAMP": timestamp, "X-SIGNATURE": signature}


def token_headers(
    key: rsa.RSAPrivateKey, timestamp: str, *, client_key: str = CLIENT_KEY
) -> dict[str, str]:
    """What Ayolinx sends to the merchant's token endpoint (docs/protocol.md §18.4.1)."""
    return {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-CLIENT-KEY": client_key,
        "X-SIGNATURE": rsa_signature(key, token_string_to_sign(client_key, timestamp)),
    }


def token_body() -> bytes:
    """The documented (ZH) body: snake-case grant type and an odd additionalInfo."""
    return encode(
        {"grant_type": "client_credentials", "additionalInfo": {"channel": 13, "client_id": "x"}}
    )


def va_payment_headers(
    token: str,
    body: bytes,
    timestamp: str,
    *,
    path: str = VA_PATH,
    secret: str = CLIENT_SECRET,
    algorithm: str = "sha512",
    external_id: str = "418075533589",
) -> dict[str, str]:
    """What Ayolinx sends with a SNAP VA payment (docs/protocol.md §18.4.2)."""
    message = service_string_to_sign("POST", path, token, body, timestamp)
    return {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": hmac_signature(secret, message, algorithm),
        "X-PARTNER-ID": CLIENT_KEY,
        "X-EXTERNAL-ID": external_id,
        "Authorization": f"Bearer {token}",
    }


def make_handler(
    ayolinx_key: rsa.RSAPrivateKey, clock: Callable[[], float], **options: Any
) -> CallbackHandler:
    """A handler for the test merchant trusting ``ayolinx_key``; ``options`` override the rest
    (``client_key``, ``on_event`` (default: a fresh :class:`Recorder`), keys, stores, timeouts)."""
    options.setdefault("on_event", Recorder())
    options.setdefault("client_key", CLIENT_KEY)
    options.setdefault("client_secret", CLIENT_SECRET)
    options.setdefault("ayolinx_public_keys", ayolinx_key.public_key())
    return CallbackHandler(clock=clock, **options)


async def send_notify(
    handler: CallbackHandler, key: rsa.RSAPrivateKey, clock: FakeClock, body: bytes
) -> CallbackResponse:
    """POST ``body`` to the notify route, signed by ``key`` as Ayolinx signs it."""
    return await handler("POST", NOTIFY_PATH, notify_headers(key, body, clock.stamp()), body)


async def issue_token(
    handler: CallbackHandler,
    key: rsa.RSAPrivateKey,
    clock: FakeClock,
    *,
    client_key: str = CLIENT_KEY,
) -> str:
    """The access token the handler issues to a correctly signed token request."""
    headers = token_headers(key, clock.stamp(), client_key=client_key)
    response = await handler("POST", TOKEN_PATH, headers, token_body())
    assert response.status == 200, response.body
    token: str = response.json()["accessToken"]
    return token


async def send_va_payment(
    handler: CallbackHandler, token: str, clock: FakeClock, body: bytes
) -> CallbackResponse:
    """POST a SNAP VA payment under ``token``, HMAC-signed with the test secret."""
    return await handler("POST", VA_PATH, va_payment_headers(token, body, clock.stamp()), body)


def qris_body(ref: str = "20250110111212800110166944801931623", status: str = "00") -> bytes:
    """Shaped like the real sandbox QRIS callback (docs/protocol.md §18.3)."""
    return encode(
        {
            "callbackType": "QRIS",
            "originalPartnerReferenceNo": "ORD-QRIS-1",
            "originalReferenceNo": ref,
            "latestTransactionStatus": status,
            "amount": {"currency": "IDR", "value": "20000.00"},
            "customerNumber": "089912345678",
            "finishedTime": "2025-01-10T11:12:40+07:00",
            "additionalInfo": {
                "channel": "BNC_QRIS",
                "bankCode": "BNC",
                "bankName": "Bank Neo Commerce",
                "errorCode": "",
                "feeMoney": {"currency": "IDR", "value": "140.00"},
                "RRN": "501011123456",
                "trxType": "PAYMENT",
                "userName": "Jokul Doe",
                "paymentNtb": "9876543210",
                "settleDate": "2025-01-11",
            },
            "brandNewField": {"nested": True},
        }
    )


def ewallet_body(ref: str = "EW-REF-1", status: str = "00") -> bytes:
    return encode(
        {
            "originalPartnerReferenceNo": "ORD-DANA-1",
            "originalReferenceNo": ref,
            "latestTransactionStatus": status,
            "transactionStatusDesc": "SUCCESS",
            "amount": {"currency": "IDR", "value": "30.00"},
            "finishedTime": "2025-05-03T12:00:00+07:00",
            "additionalInfo": {"channel": "EMONEY_DANA_SNAP"},
        }
    )


def va_notify_body(ref: str = "VA-REF-1", status: str = "00") -> bytes:
    return encode(
        {
            "originalPartnerReferenceNo": "TRX-VA-1",
            "originalReferenceNo": ref,
            "latestTransactionStatus": status,
            "amount": {"currency": "IDR", "value": "11500.00"},
            "finishedTime": "2025-02-27T10:00:00+07:00",
            "additionalInfo": {"channel": "VIRTUAL_ACCOUNT_BNI"},
        }
    )


def retail_body(ref: str = "20250110111212800110166944801931624", status: str = "00") -> bytes:
    """The start of the documented convenience-store example, completed (docs/protocol.md §18.2)."""
    return encode(
        {
            "amount": {"currency": "IDR", "value": "30.00"},
            "originalReferenceNo": ref,
            "latestTransactionStatus": status,
            "originalPartnerReferenceNo": "ORD-RETAIL-1",
            "additionalInfo": {"channel": "RETAIL_ALFAMART"},
        }
    )


def payment_link_body(ref: str = "PL-REF-1", status: str = "00") -> bytes:
    """A payment paid by QRIS through a link: the QRIS notify plus ``plh``
    (docs/protocol.md §18.5)."""
    return encode(
        {
            "callbackType": "QRIS",
            "originalPartnerReferenceNo": "4DrzTTeCn9Z",
            "originalReferenceNo": ref,
            "latestTransactionStatus": status,
            "amount": {"currency": "IDR", "value": "20000.00"},
            "additionalInfo": {"channel": "BNC_QRIS", "plh": "4DrzTTeCn9Z"},
        }
    )


def va_payment_body(payment_request_id: str = "PRQ-1") -> bytes:
    """SNAP VA payment body: verbatim doc fields first (padded ids kept), then [T]/[S] ones."""
    return encode(
        {
            "partnerServiceId": "   88899",
            "customerNo": "12345678901234567890",
            "virtualAccountNo": "   8889912345678901234567890",
            "virtualAccountName": "Jokul Doe",
            "trxId": "TRX-SNAP-1",
            "paymentRequestId": payment_request_id,
            "paidAmount": {"value": "11500.00", "currency": "IDR"},
            "virtualAccountTrxType": "C",
            "additionalInfo": {
                "paymentTimeIso8601": "2025-02-27T10:00:00+07:00",
                "paymentNtb": "123456",
                "channel": "VIRTUAL_ACCOUNT_BNI",
            },
            "futureField": "kept",
        }
    )

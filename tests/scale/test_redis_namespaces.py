"""Two merchants on one Redis under one prefix (issue 12 §6): each handler's dedupe entries and
issued tokens live under a digest of its own client key, so neither ever sees the other's;
two replicas of the same merchant share theirs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.callbacks import CallbackHandler, namespace_for
from ayolinx_async.contrib.redis import RedisDedupeStore, RedisIssuedTokenStore
from tests.callbacks._helpers import (
    CLIENT_KEY,
    FakeClock,
    Recorder,
    encode,
    issue_token,
    make_handler,
    qris_body,
    send_notify,
    send_va_payment,
    va_payment_body,
)

pytestmark = pytest.mark.anyio

OTHER_KEY = "CKSandbox-00000000-merchant-b"


def _text(value: bytes | str) -> str:
    """A Redis reply as text, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value


def _handler(
    redis: aioredis.Redis,
    prefix: str,
    key: rsa.RSAPrivateKey,
    clock: FakeClock,
    client_key: str,
    recorder: Recorder,
) -> CallbackHandler:
    return make_handler(
        key,
        clock,
        client_key=client_key,
        on_event=recorder,
        dedupe_store=RedisDedupeStore(redis, prefix=prefix),
        token_store=RedisIssuedTokenStore(redis, prefix=prefix),
    )


def _partner_only_notify() -> bytes:
    """A notify without ``originalReferenceNo``: its dedupe key is the partner reference."""
    body: dict[str, Any] = json.loads(qris_body())
    del body["originalReferenceNo"]
    return encode(body)


async def test_two_merchants_never_see_each_others_dedupe_entries_or_tokens(
    redis_client: aioredis.Redis, prefix: str, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    a_events, b_events = Recorder(), Recorder()
    a = _handler(redis_client, prefix, ayolinx_key, clock, CLIENT_KEY, a_events)
    b = _handler(redis_client, prefix, ayolinx_key, clock, OTHER_KEY, b_events)

    body = _partner_only_notify()
    for handler in (a, b):
        assert (await send_notify(handler, ayolinx_key, clock, body)).status == 200
    # Both merchants' listeners ran: B's notification was not taken for A's duplicate.
    assert (a_events.calls, b_events.calls) == (1, 1)
    keys = sorted(_text(k) for k in await redis_client.keys(f"{prefix}dedupe:*"))
    assert keys == sorted(
        f"{prefix}dedupe:{namespace_for(ck)}:partner:ORD-QRIS-1:00:ntb:9876543210"
        for ck in (CLIENT_KEY, OTHER_KEY)
    )

    b_token = await issue_token(b, ayolinx_key, clock, client_key=OTHER_KEY)
    refused = await send_va_payment(a, b_token, clock, va_payment_body())
    assert refused.status == 401
    assert refused.json()["responseCode"] == "4012501"
    assert a_events.calls == 1
    (token_key,) = [_text(k) for k in await redis_client.keys(f"{prefix}issued:*")]
    assert token_key.startswith(f"{prefix}issued:{namespace_for(OTHER_KEY)}:")


async def test_replicas_of_one_merchant_share_dedupe_and_tokens(
    redis_client: aioredis.Redis, prefix: str, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    events = Recorder()
    first = _handler(redis_client, prefix, ayolinx_key, clock, CLIENT_KEY, events)
    second = _handler(redis_client, prefix, ayolinx_key, clock, CLIENT_KEY, events)
    body = _partner_only_notify()
    for handler in (first, second):
        assert (await send_notify(handler, ayolinx_key, clock, body)).status == 200
    assert events.calls == 1  # the second replica acknowledged a duplicate

    token = await issue_token(first, ayolinx_key, clock)
    paid = await send_va_payment(second, token, clock, va_payment_body())
    assert paid.status == 200
    assert paid.json()["responseCode"] == "2002500"

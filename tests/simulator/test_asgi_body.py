"""The simulator reads bodies with the same capped reader as the callback ASGI app: a client
that leaves mid-body gets no answer and changes nothing; an oversized body is a 413."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest

from ayolinx_async.simulator import Simulator

pytestmark = pytest.mark.anyio

_SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/v1.0/qr/qr-mpm-generate",
    "headers": [(b"content-type", b"application/json")],
    "query_string": b"",
}


async def _serve(messages: list[dict[str, Any]]) -> list[MutableMapping[str, Any]]:
    sim = Simulator()
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await sim(dict(_SCOPE), receive, send)
    assert sim.requests() == [] or all(r.path != _SCOPE["path"] for r in sim.requests())
    return sent


async def test_a_client_that_leaves_mid_body_gets_no_answer() -> None:
    sent = await _serve(
        [
            {"type": "http.request", "body": b'{"partnerRef', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    assert sent == []


async def test_an_oversized_body_is_refused_before_it_is_read_whole() -> None:
    chunk = b"x" * (1 << 19)
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for _ in range(4)]
    sent = await _serve(messages)
    assert sent[0]["status"] == 413
    assert len(messages) == 1  # the fourth chunk was never asked for

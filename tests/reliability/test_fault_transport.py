"""``ayolinx_async.testing.FaultInjectingTransport`` on its own: each fault does what it says,
and only "after_send" faults let the request reach the wrapped transport."""

from __future__ import annotations

import time

import anyio
import pytest

from ayolinx_async import (
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    HttpRequest,
    HttpResponse,
    ReadTimeoutError,
    Timeout,
    Transport,
)
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.testing import Fault, FaultInjectingTransport, FaultKind

pytestmark = pytest.mark.anyio

BODY = b'{"responseCode":"2005100","responseMessage":"Successful"}'


class Inner:
    """Answers every request with ``BODY`` and remembers what it received."""

    def __init__(self) -> None:
        self.received: list[HttpRequest] = []
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.received.append(request)
        return HttpResponse(status_code=200, headers={"x-server": "inner"}, content=BODY)

    async def aclose(self) -> None:
        self.closed = True


def _request(path: str = "/v1.0/qr/qr-mpm-query", total: float = 30.0) -> HttpRequest:
    return HttpRequest(
        method="POST",
        url="https://gateway.test" + path,
        headers={"X-EXTERNAL-ID": "123", "Authorization": "Bearer secret-token-value"},
        content=b"{}",
        timeout=Timeout(connect=1.0, total=total),
    )


def test_it_is_a_transport() -> None:
    assert isinstance(FaultInjectingTransport(Inner()), Transport)


@pytest.mark.parametrize(
    ("fault", "error", "forwarded"),
    [
        (Fault.refuse(), ConnectError, False),
        (Fault.connect_timeout(), ConnectTimeoutError, False),
        (Fault.read_timeout(), ReadTimeoutError, True),
        (Fault.read_timeout(after_send=False), ReadTimeoutError, False),
        (Fault.drop(), ConnectionDroppedError, True),
        (Fault.drop(after_send=False), ConnectionDroppedError, False),
    ],
    ids=lambda v: getattr(getattr(v, "kind", None), "value", None) or str(v),
)
async def test_transport_faults_raise_the_sdk_errors(
    fault: Fault, error: type[Exception], forwarded: bool
) -> None:
    inner = Inner()
    faults = FaultInjectingTransport(inner)
    faults.inject(fault)
    with pytest.raises(error) as info:
        await faults.send(_request())
    assert len(inner.received) == (1 if forwarded else 0)
    assert info.value.request_sent is (error not in (ConnectError, ConnectTimeoutError))  # type: ignore[attr-defined]
    (record,) = faults.records
    assert record.forwarded is forwarded
    assert record.outcome == error.__name__
    assert record.external_id == "123"
    assert record.fault is fault
    # The script is used up: the next request passes through.
    response = await faults.send(_request())
    assert response.content == BODY
    assert faults.pending == 0


async def test_canned_responses_status_html_empty_and_truncate() -> None:
    inner = Inner()
    faults = FaultInjectingTransport(inner)
    faults.inject(
        Fault.status(503, headers={"Retry-After": "4"}),
        Fault.html(502),
        Fault.empty(),
        Fault.truncate(10),
        Fault.truncate(),
        Fault.respond(200, b"\x00raw"),
        Fault.respond(400, {"responseCode": "4004702"}),
    )
    answers = [await faults.send(_request()) for _ in range(7)]
    assert answers[0].status_code == 503
    assert answers[0].headers["retry-after"] == "4"
    assert answers[0].content == b'{"responseCode":"5030000","responseMessage":"Injected fault"}'
    assert answers[1].status_code == 502
    assert answers[1].content.startswith(b"<html>")
    assert answers[1].headers["content-type"] == "text/html"
    assert answers[2].content == b""
    assert answers[3].content == BODY[:10]
    assert answers[4].content == BODY[: len(BODY) // 2]
    assert answers[4].headers == {"x-server": "inner"}  # the real response, cut short
    assert answers[5].content == b"\x00raw"
    assert answers[6].content == b'{"responseCode":"4004702"}'
    # status() and html() answer without the server; empty() and truncate() forward first.
    assert [r.forwarded for r in faults.records] == [False, False, True, True, True, False, False]
    assert len(inner.received) == 3


async def test_delay_passes_through_within_the_timeout_and_times_out_beyond_it() -> None:
    inner = Inner()
    faults = FaultInjectingTransport(inner)
    faults.inject(Fault.delay(0.02), Fault.delay(5), Fault.delay(5, after_send=True))
    started = time.monotonic()
    assert (await faults.send(_request(total=1))).content == BODY
    assert time.monotonic() - started >= 0.02
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        await faults.send(_request(total=0.05))
    with pytest.raises(ReadTimeoutError):
        await faults.send(_request(total=0.05))
    assert time.monotonic() - started < 1
    assert [r.forwarded for r in faults.records] == [True, False, True]


async def test_hang_ends_by_cancellation_and_is_recorded_as_such() -> None:
    faults = FaultInjectingTransport(Inner())
    faults.inject(Fault.hang())
    with anyio.move_on_after(0.02) as scope:
        await faults.send(_request())
    assert scope.cancelled_caught
    assert faults.records[0].outcome == "cancelled"


async def test_rules_match_paths_and_can_spare_the_token_endpoint() -> None:
    faults = FaultInjectingTransport(Inner())
    faults.inject(Fault.refuse(), path="/a")
    faults.inject_always(Fault.status(503), services_only=True)
    assert (await faults.send(_request(TOKEN_PATH))).status_code == 200
    assert (await faults.send(_request("/b"))).status_code == 503
    with pytest.raises(ConnectError):
        await faults.send(_request("/a"))  # the queued rule is used before the standing one
    assert (await faults.send(_request("/a"))).status_code == 503
    assert [r.path for r in faults.records] == [TOKEN_PATH, "/b", "/a", "/a"]
    assert len(faults.records_for("/a")) == 2
    assert faults.forwarded_to(TOKEN_PATH) == 1
    faults.clear()
    assert (await faults.send(_request("/b"))).status_code == 200


async def test_passthrough_lets_a_script_skip_requests() -> None:
    faults = FaultInjectingTransport(Inner())
    faults.inject(Fault.passthrough(), Fault.refuse())
    assert (await faults.send(_request())).status_code == 200
    with pytest.raises(ConnectError):
        await faults.send(_request())


async def test_aclose_closes_the_inner_transport_unless_told_not_to() -> None:
    inner = Inner()
    await FaultInjectingTransport(inner).aclose()
    assert inner.closed
    kept = Inner()
    await FaultInjectingTransport(kept, close_inner=False).aclose()
    assert not kept.closed


async def test_records_never_show_the_signed_headers() -> None:
    faults = FaultInjectingTransport(Inner())
    await faults.send(_request())
    text = repr(faults.records)
    assert "secret-token-value" not in text
    assert "123" in text


def test_fault_values() -> None:
    assert Fault.hang().kind is FaultKind.DELAY
    assert (
        Fault.status(429).body == b'{"responseCode":"4290000","responseMessage":"Injected fault"}'
    )
    assert Fault.respond(200, "text").headers == {}
    with pytest.raises(ValueError, match="seconds"):
        Fault.delay(-1)

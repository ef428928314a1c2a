"""Calls queue before they are signed (issue 15): past the transport's ``max_in_flight`` a call
waits holding only its body, gets its X-TIMESTAMP when it goes, and a call whose deadline
passes in the queue was never sent (a pool timeout, safe to resend)."""

from __future__ import annotations

import json

import anyio
import pytest

from ayolinx_async import AyolinxClient, Credentials
from ayolinx_async._errors import PoolTimeoutError
from ayolinx_async.transport import HttpRequest, HttpResponse, Timeout

from .._fakes import TOKEN_ANSWER, FakeClock

pytestmark = pytest.mark.anyio

PATH = "/v1.0/qr/qr-mpm-query"
_TOKEN = TOKEN_ANSWER
_OK = {"responseCode": "2005100", "responseMessage": "Successful"}


class _HeldTransport:
    """Answers tokens at once; holds service calls until ``release`` is set."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.release = anyio.Event()
        self.service: list[HttpRequest] = []
        self.in_flight = 0
        self.most = 0

    async def send(self, request: HttpRequest) -> HttpResponse:
        if request.url.endswith("/access-token/b2b"):
            return HttpResponse(status_code=200, headers={}, content=json.dumps(_TOKEN).encode())
        self.service.append(request)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return HttpResponse(status_code=200, headers={}, content=json.dumps(_OK).encode())

    async def aclose(self) -> None:
        pass


class _CountingSigner:
    def __init__(self) -> None:
        self.service_signatures = 0

    async def sign_token(self, string_to_sign: str) -> str:
        return "c2ln"

    async def sign_service(self, string_to_sign: str) -> str:
        self.service_signatures += 1
        return "c2ln"


async def _query(client: AyolinxClient, index: int, typed: bool = False) -> None:
    if typed:  # on asyncio it waits in the resource, before its body is rendered
        await client.qris.query(original_partner_reference_no=f"R{index}")
        return
    await client.request(PATH, {"partnerReferenceNo": f"R{index}"}, idempotent=True)


typed_or_not = pytest.mark.parametrize("typed", [False, True], ids=["request", "typed"])


def _client(transport: _HeldTransport, signer: _CountingSigner, **options: object) -> AyolinxClient:
    return AyolinxClient(
        Credentials(client_key="k", client_secret="s"),
        base_url="https://sandbox.test",
        transport=transport,
        signer=signer,
        **options,  # type: ignore[arg-type]
    )


@typed_or_not
async def test_calls_past_the_limit_wait_unsigned_and_all_complete(typed: bool) -> None:
    transport, signer = _HeldTransport(max_in_flight=2), _CountingSigner()
    done = 0

    async def one(index: int) -> None:
        nonlocal done
        await _query(client, index, typed)
        done += 1

    async with _client(transport, signer) as client, anyio.create_task_group() as tg:
        for index in range(50):
            tg.start_soon(one, index)
        await anyio.wait_all_tasks_blocked()
        # Two are on the wire; the other 48 queue before signing.
        assert (len(transport.service), signer.service_signatures) == (2, 2)
        transport.release.set()
    assert done == 50
    assert signer.service_signatures == 50
    assert transport.most == 2


@typed_or_not
async def test_a_queued_call_is_stamped_when_it_goes(typed: bool) -> None:
    clock = FakeClock()
    transport, signer = _HeldTransport(max_in_flight=1), _CountingSigner()
    async with _client(transport, signer, clock=clock) as client, anyio.create_task_group() as tg:
        for index in range(2):
            tg.start_soon(_query, client, index, typed)
        await anyio.wait_all_tasks_blocked()
        clock.advance(20)  # the second call has waited 20 s of its 30 s in the queue
        transport.release.set()
    first, second = (request.headers["X-TIMESTAMP"] for request in transport.service)
    assert first != second
    assert second.endswith("+07:00")
    assert first < second


@pytest.mark.parametrize("call", ["read-only", "money-moving", "typed"])
async def test_a_call_that_times_out_in_the_queue_was_never_sent(call: str) -> None:
    transport, signer = _HeldTransport(max_in_flight=1), _CountingSigner()
    client = _client(transport, signer, max_retries=0)
    timeout = Timeout(connect=0.05, total=0.05)
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(_query, client, 1)
        await anyio.wait_all_tasks_blocked()
        second = (
            client.qris.generate(partner_reference_no="R2", amount=1, timeout=timeout)
            if call == "typed"
            else client.request(
                PATH,
                {"partnerReferenceNo": "R2"},
                idempotent=call == "read-only",
                timeout=timeout,
            )
        )
        with pytest.raises(PoolTimeoutError):  # not OutcomeUnknownError: it never left
            await second
        assert len(transport.service) == 1
        assert signer.service_signatures == 1
        transport.release.set()


async def test_a_transport_without_a_limit_is_not_gated() -> None:
    transport, signer = _HeldTransport(max_in_flight=0), _CountingSigner()
    async with _client(transport, signer) as client, anyio.create_task_group() as tg:
        for index in range(30):
            tg.start_soon(_query, client, index)
        await anyio.wait_all_tasks_blocked()
        assert len(transport.service) == 30
        transport.release.set()

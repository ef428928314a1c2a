"""The pipeline gate against its own deadline (docs/architecture.md §2, §3.3): the time a call
waits for a slot counts against its timeout, and a slot that comes too late for an attempt to
start with ``min_attempt`` left is handed back unused (a pool timeout: never sent)."""

from __future__ import annotations

import json

import anyio
import pytest

from ayolinx_async import AyolinxClient, Credentials
from ayolinx_async._errors import PoolTimeoutError
from ayolinx_async.transport import HttpRequest, HttpResponse, Timeout

from .._fakes import TOKEN_ANSWER, FakeClock

pytestmark = pytest.mark.anyio

PATH = "/v1.0/qr/qr-mpm-generate"
_TOKEN = TOKEN_ANSWER
_OK = {"responseCode": "2004700", "responseMessage": "Successful", "qrContent": "000201"}
_TIMEOUT = Timeout(connect=5.0, total=10.0)


class _OneAtATime:
    """One request in flight; service calls wait for ``release``. Records what was sent."""

    max_in_flight = 1

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.service: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        if request.url.endswith("/access-token/b2b"):
            return HttpResponse(status_code=200, headers={}, content=json.dumps(_TOKEN).encode())
        self.service.append(request)
        await self.release.wait()
        return HttpResponse(status_code=200, headers={}, content=json.dumps(_OK).encode())

    async def aclose(self) -> None:
        pass


class _Signer:
    async def sign_token(self, string_to_sign: str) -> str:
        return "c2ln"

    async def sign_service(self, string_to_sign: str) -> str:
        return "c2ln"


async def _generate(client: AyolinxClient, reference: str, typed: bool = False) -> None:
    if typed:  # on asyncio it waits in the resource, before its body is rendered
        await client.qris.generate(partner_reference_no=reference, amount=1, timeout=_TIMEOUT)
        return
    await client.request(
        PATH, {"partnerReferenceNo": reference}, idempotent=False, timeout=_TIMEOUT
    )


async def _second_call_after_waiting(
    waited: float, typed: bool
) -> tuple[_OneAtATime, BaseException | None]:
    """Hold the only slot with one call, let a second queue for ``waited`` (clock) seconds."""
    clock, transport = FakeClock(), _OneAtATime()
    client = AyolinxClient(
        Credentials(client_key="k", client_secret="s"),
        base_url="https://sandbox.test",
        transport=transport,
        signer=_Signer(),
        clock=clock,
        max_retries=0,
    )
    failure: BaseException | None = None

    async def second() -> None:
        nonlocal failure
        try:
            await _generate(client, "R2", typed)
        except PoolTimeoutError as exc:
            failure = exc

    async with client, anyio.create_task_group() as tg:
        tg.start_soon(_generate, client, "R1")
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        clock.advance(waited)
        transport.release.set()
    gate = client._core.gate
    assert gate is not None
    assert gate.value == 1  # every slot handed back
    return transport, failure


@pytest.mark.parametrize("typed", [False, True], ids=["request", "typed"])
async def test_a_queued_call_goes_with_what_is_left_of_its_timeout(typed: bool) -> None:
    transport, failure = await _second_call_after_waiting(8.0, typed)
    assert failure is None
    first, second = (request.timeout for request in transport.service)
    assert first == _TIMEOUT
    assert second is not None
    assert second.total <= 2.0  # not another 10 s after 8 in the queue


@pytest.mark.parametrize("typed", [False, True], ids=["request", "typed"])
async def test_a_slot_that_comes_after_the_deadline_is_not_used(typed: bool) -> None:
    # Past the call's 10 s (inside the old connect-long grace): a money-moving call is refused
    # as a pool timeout, never sent with a sliver of time and then reported as outcome unknown.
    transport, failure = await _second_call_after_waiting(10.5, typed)
    assert isinstance(failure, PoolTimeoutError)
    assert len(transport.service) == 1

"""Typed calls wait at the pipeline gate before their body exists (issue 15, memory): on asyncio
a queued ``client.qris.query`` holds its validated model, one frame and one future, and takes
its slot into ``send_call`` when it goes. Every way out of the call gives the slot back exactly
once, with thousands of real coroutines cancelled at every stage."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import pytest

from ayolinx_async import AyolinxClient, Credentials, Timeout
from ayolinx_async._errors import ConnectError, PoolTimeoutError, ValidationError
from ayolinx_async._response import APIResponse
from ayolinx_async.models import QrisQueryRequest, QrisQueryResponse
from ayolinx_async.testing import Fault, FaultInjectingTransport
from ayolinx_async.transport import HttpRequest, HttpResponse

from .._fakes import TOKEN_ANSWER

if TYPE_CHECKING:
    from ayolinx_async._gate import Gate

pytestmark = pytest.mark.anyio
#: asyncio's own loop and uvloop (uvicorn's default; its futures and tasks are not asyncio's
#: classes, and the gate's waiters must work on both).
asyncio_only = pytest.mark.parametrize(
    "anyio_backend", ["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)

QUERY = "/v1.0/qr/qr-mpm-query"
_TOKEN = TOKEN_ANSWER
_OK = json.dumps({"responseCode": "2005100", "responseMessage": "Successful"}).encode()


def _ref(request: HttpRequest) -> str:
    return str(json.loads(request.content)["originalPartnerReferenceNo"])


class _Stages:
    """Transport and signer in one: service calls park at ``hold`` ("token", "sign" or "send")
    until the test lets them go, one by one (``go``) or all at once (``open``)."""

    def __init__(self, size: int, hold: str = "send") -> None:
        self.max_in_flight = size
        self.hold = hold
        self.parked: list[asyncio.Future[None] | anyio.Event] = []
        self.opened = False
        self.sent: list[str] = []  # service references, in the order they reached the wire
        self.in_flight = 0
        self.most = 0
        self.signed = 0
        self.fail_signature: int | None = None  # this service signature (1-based) fails
        self.fail_send: set[str] = set()

    async def _park(self) -> None:
        if not self.opened:
            event = anyio.Event()
            self.parked.append(event)
            await event.wait()

    def go(self, count: int) -> None:
        """Let the ``count`` oldest parked calls on."""
        for event in self.parked[:count]:
            assert isinstance(event, anyio.Event)
            event.set()
        del self.parked[:count]

    def open(self) -> None:
        self.opened = True
        self.go(len(self.parked))

    async def send(self, request: HttpRequest) -> HttpResponse:
        if request.url.endswith("/access-token/b2b"):
            if self.hold == "token":
                await self._park()
            return HttpResponse(status_code=200, headers={}, content=json.dumps(_TOKEN).encode())
        reference = _ref(request)
        self.sent.append(reference)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if reference in self.fail_send:
                raise ConnectError("refused")
            if self.hold == "send":
                await self._park()
        finally:
            self.in_flight -= 1
        return HttpResponse(status_code=200, headers={}, content=_OK)

    async def aclose(self) -> None:
        pass

    async def sign_token(self, string_to_sign: str) -> str:
        return "c2ln"

    async def sign_service(self, string_to_sign: str) -> str:
        self.signed += 1
        if self.signed == self.fail_signature:
            raise OSError("hsm down")
        if self.hold == "sign":
            await self._park()
        return "c2ln"


def _client(stages: _Stages, **options: Any) -> AyolinxClient:
    options.setdefault("max_retries", 0)
    options.setdefault("transport", stages)
    return AyolinxClient(
        Credentials(client_key="k", client_secret="s"),
        base_url="https://sandbox.test",
        signer=stages,
        **options,
    )


def _gate(client: AyolinxClient) -> Gate:
    gate = client._core.gate
    assert gate is not None
    return gate


async def _query(client: AyolinxClient, index: int, **options: Any) -> QrisQueryResponse:
    return await client.qris.query(original_partner_reference_no=f"R{index}", **options)


async def _until(condition: Any, steps: int = 200) -> None:
    """Let the loop run until ``condition()`` holds (each step one pass of the ready queue)."""
    for _ in range(steps):
        if condition():
            return
        await anyio.lowlevel.checkpoint()
    raise AssertionError("the calls never got there")


@asyncio_only
@pytest.mark.parametrize("stage", ["token", "sign", "send"])
async def test_slots_survive_cancellation_queued_and_at_every_stage(stage: str) -> None:
    size, calls = 8, 1200
    stages = _Stages(size, hold=stage)
    async with _client(stages) as client:
        gate = _gate(client)
        tasks = [asyncio.create_task(_query(client, index)) for index in range(calls)]
        # Token: one fetch parks and the first ``size`` calls wait on it holding slots.
        await _until(lambda: len(stages.parked) == (1 if stage == "token" else size))
        await _until(lambda: gate.value == 0)
        in_flight = set(range(size))
        doomed = set(range(0, size, 2)) | set(range(size, calls, 3))
        for index in sorted(doomed):
            tasks[index].cancel()
        if stage != "token":  # the cancelled calls' slots went to the next live waiters
            await _until(lambda: len(stages.parked) == size + len(in_flight & doomed))
            assert stages.in_flight <= size
        stages.open()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    cancelled = {index for index, task in enumerate(tasks) if task.cancelled()}
    assert cancelled == doomed
    assert all(
        isinstance(outcome, QrisQueryResponse)
        for index, outcome in enumerate(outcomes)
        if index not in doomed
    )
    sent = stages.sent
    assert len(sent) == len(set(sent))
    queued_and_cancelled = {f"R{index}" for index in doomed - in_flight}
    assert not queued_and_cancelled & set(sent)  # never sent
    assert len(sent) == calls - len(queued_and_cancelled) - (
        len(in_flight & doomed) if stage != "send" else 0
    )
    assert stages.most <= size
    assert gate.value == size  # no slot lost, none doubled


@asyncio_only
async def test_a_waiter_cancelled_after_its_slot_was_handed_passes_it_on() -> None:
    size, calls, per_round = 4, 1000, 3
    stages = _Stages(size)
    async with _client(stages) as client:
        gate = _gate(client)
        tasks = [asyncio.create_task(_query(client, index)) for index in range(calls)]
        await _until(lambda: len(stages.parked) == size)
        waiting = list(range(size, calls))  # arrival order at the gate
        doomed: set[int] = set()
        while len(waiting) > per_round:
            # The parked calls finish in the next pass and hand their slots to the oldest
            # waiters, whose tasks only run in the pass after: cancel them in between.
            stages.go(per_round)
            await asyncio.sleep(0)
            handed, waiting = waiting[:per_round], waiting[per_round:]
            assert all(not tasks[index].done() for index in handed)
            for index in handed:
                tasks[index].cancel()
            doomed.update(handed)
            # Their slots went on to the next waiters, which reach the wire.
            await _until(lambda: len(stages.parked) == size)
            if len(waiting) > per_round:
                waiting = waiting[per_round:]
        stages.open()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert {index for index, task in enumerate(tasks) if task.cancelled()} == doomed
    assert not {f"R{index}" for index in doomed} & set(stages.sent)
    assert len(stages.sent) == calls - len(doomed)
    assert stages.most <= size
    assert gate.value == size


async def test_slots_are_handed_out_in_arrival_order() -> None:
    stages = _Stages(1)
    calls = 300
    async with _client(stages) as client, anyio.create_task_group() as tg:
        for index in range(calls):
            tg.start_soon(_query, client, index)
            for _ in range(3):  # each call reaches the gate before the next starts
                await anyio.lowlevel.checkpoint()
        await _until(lambda: len(stages.parked) == 1)
        for done in range(1, calls):
            stages.go(1)
            await _until(lambda done=done: len(stages.sent) == done + 1 and len(stages.parked) == 1)
        stages.open()
    assert stages.sent == [f"R{index}" for index in range(calls)]
    assert _gate(client).value == 1


async def test_a_queued_call_renders_its_body_only_when_it_goes(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    to_wire = QrisQueryRequest.to_wire

    def counting(self: QrisQueryRequest) -> dict[str, Any]:
        rendered.append(self.original_partner_reference_no or "")
        return to_wire(self)

    monkeypatch.setattr(QrisQueryRequest, "to_wire", counting)
    stages = _Stages(2)
    async with _client(stages) as client, anyio.create_task_group() as tg:
        for index in range(60):
            tg.start_soon(_query, client, index)
        await anyio.wait_all_tasks_blocked()
        if anyio_backend == "asyncio":
            assert len(rendered) == 2  # the 58 queued calls hold their model, not a body
        else:  # trio queues inside send_call, as before
            assert len(rendered) == 60
        stages.open()
    assert len(stages.sent) == 60


async def test_a_bad_call_fails_at_once_even_when_the_gate_is_full() -> None:
    stages = _Stages(1)
    async with _client(stages) as client, anyio.create_task_group() as tg:
        tg.start_soon(_query, client, 0)
        await anyio.wait_all_tasks_blocked()
        with anyio.fail_after(1), pytest.raises(ValidationError, match="external_id"):
            await _query(client, 1, external_id="not valid!")
        with anyio.fail_after(1), pytest.raises(ValueError, match="positive"):
            await _query(client, 2, timeout=-1)
        assert _gate(client).value == 0  # nothing queued or taken
        stages.open()
    assert stages.sent == ["R0"]
    assert _gate(client).value == 1


class _GatedFaults(FaultInjectingTransport):
    max_in_flight = 1


@asyncio_only
async def test_queued_calls_whose_wait_runs_out_were_never_sent() -> None:
    stages = _Stages(1)
    faults = _GatedFaults(stages)
    client = _client(stages, transport=faults)
    short, long = Timeout(connect=0.2, total=0.2), Timeout(connect=0.6, total=0.6)
    failed: list[tuple[str, float]] = []

    async def one(index: int, timeout: Timeout) -> None:
        started = asyncio.get_running_loop().time()
        with pytest.raises(PoolTimeoutError, match="no free connection"):
            await _query(client, index, timeout=timeout)
        failed.append((f"R{index}", asyncio.get_running_loop().time() - started))

    async with client:
        faults.inject(Fault.hang(), path=QUERY)  # the first call holds the only slot
        holder = asyncio.create_task(_query(client, 0))
        await _until(lambda: _gate(client).value == 0)
        await asyncio.sleep(0.01)
        # Longer waits queue first: the shorter ones behind them still run out first.
        waits = [asyncio.create_task(one(index, long)) for index in range(1, 301)]
        waits += [asyncio.create_task(one(index, short)) for index in range(301, 601)]
        await asyncio.gather(*waits)
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)
    assert len(failed) == 600
    assert {reference for reference, _ in failed[:300]} == {f"R{i}" for i in range(301, 601)}
    assert min(seconds for _, seconds in failed[:300]) >= 0.15 - 0.01  # 0.2 s less min_attempt
    assert min(seconds for _, seconds in failed[300:]) >= 0.45 - 0.01
    assert len(faults.records_for(QUERY)) == 1  # only the holder reached the transport
    assert faults.forwarded_to(QUERY) == 0
    assert stages.sent == []
    assert _gate(client).value == 1


def _fail_render(monkeypatch: pytest.MonkeyPatch) -> type[BaseException]:
    to_wire = QrisQueryRequest.to_wire

    def broken(self: QrisQueryRequest) -> dict[str, Any]:
        if self.original_partner_reference_no == "R1":
            raise RuntimeError("render")
        return to_wire(self)

    monkeypatch.setattr(QrisQueryRequest, "to_wire", broken)
    return RuntimeError


def _wrap_post(
    monkeypatch: pytest.MonkeyPatch, client: AyolinxClient, *, reach: bool, fail: bool
) -> None:
    post = client.post

    async def wrapper(path: str, body: Any, **kwargs: Any) -> APIResponse:
        if body.get("originalPartnerReferenceNo") == "R1":
            if fail:
                raise LookupError("wrapper")
            if not reach:  # answers without ``send_call``: the lent slot is never taken
                return await _fake_answer()
        return await post(path, body, **kwargs)

    monkeypatch.setattr(client, "post", wrapper)


async def _fake_answer() -> APIResponse:
    from ayolinx_async._response import decode_response

    response = HttpResponse(status_code=200, headers={}, content=_OK)
    return decode_response(response, path=QUERY, external_id="1", attempts=1)


async def _failing_hook(event: Any) -> None:
    raise RuntimeError("hook")


@pytest.mark.parametrize(
    "way_out",
    ["render", "post-raises", "post-answers-itself", "signer", "transport", "hook", "ok"],
)
async def test_every_way_out_of_a_handed_call_gives_the_slot_back_once(
    way_out: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages = _Stages(1)
    options: dict[str, Any] = {"on_request": _failing_hook} if way_out == "hook" else {}
    client = _client(stages, **options)
    expected: type[BaseException] | None = None
    if way_out == "render":
        expected = _fail_render(monkeypatch)
    elif way_out in ("post-raises", "post-answers-itself"):
        _wrap_post(monkeypatch, client, reach=False, fail=way_out == "post-raises")
        expected = LookupError if way_out == "post-raises" else None
    elif way_out == "signer":
        stages.fail_signature = 2  # call 0 signs first, then call 1
        expected = OSError
    elif way_out == "transport":
        stages.fail_send.add("R1")
        expected = ConnectError
    outcome: list[BaseException | None] = []

    async def second() -> None:
        try:
            await _query(client, 1)
        except Exception as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    async with client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_query, client, 0)  # holds the only slot
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(second)  # queues, then gets the slot from call 0 ...
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(_query, client, 2)  # ... and call 2 must get it after call 1
            await anyio.wait_all_tasks_blocked()
            stages.open()
        assert len(outcome) == 1
        if expected is None:
            assert outcome[0] is None
        else:
            assert isinstance(outcome[0], expected)
        assert "R2" in stages.sent
        gate = _gate(client)
        assert gate.value == 1  # given back once: not lost (0), not doubled (2)
        async with anyio.create_task_group() as tg:  # and the gate still works for a burst
            for index in range(10, 20):
                tg.start_soon(_query, client, index)
        assert gate.value == 1
        assert stages.most == 1


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


@asyncio_only
async def test_a_queued_typed_call_holds_little_memory(traced: None) -> None:
    waiting = 2000
    stages = _Stages(4)
    async with _client(stages) as client:
        # Warm up: imports, the token and lazily built classes are not per-call memory.
        warm = [asyncio.create_task(_query(client, index)) for index in range(16)]
        await _until(lambda: len(stages.parked) == 4)
        for task in warm[4:]:
            task.cancel()
        stages.go(4)
        await asyncio.gather(*warm, return_exceptions=True)
        await _until(lambda: _gate(client).value == 4)
        holders = [asyncio.create_task(_query(client, index)) for index in range(4)]
        await _until(lambda: len(stages.parked) == 4)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tasks = [asyncio.create_task(_query(client, 100 + index)) for index in range(waiting)]
        for _ in range(5):
            await asyncio.sleep(0)
        gc.collect()
        per_call = (tracemalloc.get_traced_memory()[0] - before) / waiting
        for task in tasks:
            task.cancel()
        stages.open()
        await asyncio.gather(*holders, *tasks, return_exceptions=True)
    # About 1.6 KB today (task, method frames, model, future); 4.4 KB when a queued call
    # held its encoded body, digest, X-EXTERNAL-ID, send_call frame and a timer of its own.
    assert per_call < 3000, per_call
    assert _gate(client).value == 4

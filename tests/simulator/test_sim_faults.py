"""Fault knobs: latency, 5xx before acting, dropped answers after acting, seeded randomness."""

from __future__ import annotations

import math
import random
import time

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import ConnectionDroppedError, OutcomeUnknownError
from ayolinx_async.simulator import Faults, MerchantAccount, Simulator, SimulatorFault
from ayolinx_async.simulator._faults import MAX_SHOTS, FaultPlan
from tests._fakes import FakeClock

from ._helpers import RawCaller, qr_body

pytestmark = pytest.mark.anyio

GENERATE = "/v1.0/qr/qr-mpm-generate"


async def _no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


async def test_injected_error_answers_500_and_does_not_act(raw: RawCaller, sim: Simulator) -> None:
    token = await raw.token()
    sim.inject_fault(SimulatorFault.ERROR, path=GENERATE)
    failed = await raw.call(GENERATE, qr_body("E-1"), token=token, external_id="100")
    assert failed.status_code == 500
    assert failed.json() == {"responseCode": "5004701", "responseMessage": "Internal Server Error"}
    assert sim.transactions() == []
    # Nothing was recorded: the same X-EXTERNAL-ID and reference go through afterwards.
    again = await raw.call(GENERATE, qr_body("E-1"), token=token, external_id="100")
    assert again.json()["responseCode"] == "2004700"
    assert [r.fault for r in sim.requests()[-2:]] == ["error", None]


async def test_dropped_answer_acts_then_hangs_up(raw: RawCaller, sim: Simulator) -> None:
    token = await raw.token()
    sim.inject_fault("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await raw.call(GENERATE, qr_body("D-1"), token=token, external_id="200")
    assert sim.transaction("D-1").status == "01"  # it happened
    # A blind re-send is caught by both duplicate checks, as on the real gateway.
    same_id = await raw.call(GENERATE, qr_body("D-1"), token=token, external_id="200")
    assert same_id.json()["responseCode"] == "4094700"
    new_id = await raw.call(GENERATE, qr_body("D-1"), token=token)
    assert new_id.json()["responseCode"] == "4094701"


async def test_sdk_sees_a_drop_as_outcome_unknown_and_can_inquire(sim: Simulator) -> None:
    async with sim.client(sleep=_no_sleep) as client:
        await client.get_access_token()
        sim.inject_fault("drop", path=GENERATE)
        with pytest.raises(OutcomeUnknownError) as info:
            await client.request(GENERATE, qr_body("D-2"))
        assert isinstance(info.value.cause, ConnectionDroppedError)
        assert info.value.partner_reference_no == "D-2"
        answer = await client.request(
            "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "D-2"}, idempotent=True
        )
    assert answer.body["latestTransactionStatus"] == "01"


async def test_read_only_calls_survive_an_injected_5xx(sim: Simulator) -> None:
    async with sim.client(sleep=_no_sleep) as client:
        await client.request(GENERATE, qr_body("R-1"))
        sim.inject_fault("error", count=2, path="/v1.0/qr/qr-mpm-query")
        answer = await client.request(
            "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "R-1"}, idempotent=True
        )
    assert answer.attempts == 3
    assert sim.fault_plan.pending_shots == 0


async def test_token_endpoint_faults(sim: Simulator) -> None:
    sim.inject_fault("error", path="/v1.0/access-token/b2b")
    async with sim.client(sleep=_no_sleep) as client:
        token = await client.get_access_token()  # retried after the 500
    assert token.value
    codes = [r.response_code for r in sim.requests() if r.path == "/v1.0/access-token/b2b"]
    assert codes == ["5007301", "2007300"]


async def test_latency_is_real_time_even_with_a_fake_clock(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    sim = Simulator(account, ayolinx_key=ayolinx_key, clock=clock, faults=Faults(latency=0.05))
    async with sim.client() as client:
        started = time.monotonic()
        await client.get_access_token()
        await client.request(GENERATE, qr_body("L-1"))
        elapsed = time.monotonic() - started
    assert elapsed >= 0.1


def _fates(seed: int) -> list[SimulatorFault | None]:
    from random import Random

    from ayolinx_async.simulator._faults import FaultPlan

    plan = FaultPlan(Faults(error_rate=0.3, drop_rate=0.3), Random(seed))
    return [plan.draw(GENERATE, is_token=False) for _ in range(200)]


def test_random_faults_are_seeded_and_roughly_at_rate() -> None:
    first, second, other = _fates(11), _fates(11), _fates(12)
    assert first == second
    assert first != other
    errors = first.count(SimulatorFault.ERROR)
    drops = first.count(SimulatorFault.DROP)
    assert 35 <= errors <= 85  # ~60 expected
    assert 20 <= drops <= 70  # ~42 expected (0.7 * 0.3 * 200)


def test_fault_filters_and_validation() -> None:
    faults = Faults(error_rate=1.0, paths=[GENERATE], include_token=False)  # type: ignore[list-item]
    assert faults.applies_to(GENERATE, is_token=False)
    assert not faults.applies_to("/v1.0/qr/qr-mpm-query", is_token=False)
    assert not Faults(include_token=False).applies_to("/v1.0/access-token/b2b", is_token=True)
    for bad in ({"error_rate": 1.5}, {"drop_rate": -0.1}, {"latency": -1.0}):
        with pytest.raises(ValueError, match="must"):
            Faults(**bad)  # type: ignore[arg-type]


async def test_seeded_simulators_answer_identically(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    async def run(seed: int) -> list[str]:
        sim = Simulator(
            account, ayolinx_key=ayolinx_key, clock=clock, seed=seed,
            faults=Faults(error_rate=0.4, include_token=False),
        )  # fmt: skip
        codes: list[str] = []
        async with sim.client(max_retries=0) as client:
            for index in range(12):
                try:
                    await client.request(
                        "/v1.0/qr/qr-mpm-query",
                        {"originalPartnerReferenceNo": f"nope-{index}"},
                        idempotent=True,
                    )
                except Exception as exc:
                    codes.append(str(getattr(exc, "response_code", exc)))
        return codes

    first = await run(5)
    assert first == await run(5)
    assert set(first) == {"5005101", "4045101"}  # some faults, some honest not-founds


def test_python_fault_api_refuses_nan_and_unbounded_injections() -> None:
    # NaN compares false with everything, so "< 0" alone let it through; a huge count queued
    # one object per shot (an admin post of 1e11 grew the process to 12 GB).
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match="latency"):
            Faults(latency=bad)
    plan = FaultPlan(Faults(), random.Random(0))
    with pytest.raises(ValueError, match="count"):
        plan.inject("error", count=MAX_SHOTS + 1)
    plan.inject("error", count=MAX_SHOTS)
    assert plan.pending_shots == MAX_SHOTS

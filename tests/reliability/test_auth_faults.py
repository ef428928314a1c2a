"""Authentication faults: a token revoked mid-burst, a token that is never accepted, and a clock
ten minutes off. Each ends in a typed outcome with an exact number of attempts."""

from __future__ import annotations

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    AuthenticationError,
    Credentials,
    InvalidTokenError,
    OutcomeUnknownError,
)
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.testing import Fault
from tests.reliability._gateway import GENERATE, QUERY, Clock, Rig, rig

pytestmark = pytest.mark.anyio


class _RevokeAt:
    """Wraps the gateway's ``advance`` hook to revoke every token at the n-th service request."""

    def __init__(self, gateway: object, at: int) -> None:
        self.gateway = gateway
        self.at = at

    def __call__(self, _seconds: float) -> None:
        if self.gateway.service_requests == self.at:  # type: ignore[attr-defined]
            self.gateway.revoke_all()  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
async def test_token_revoked_mid_burst_costs_one_refresh_and_no_failures(
    kind: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    calls = 300
    async with rig(
        credentials, merchant_key, gateway_options={"yield_per_request": True, "tick": 1e-6}
    ) as r:
        await r.client.get_access_token()
        first_token = r.gateway.issued[0]
        r.gateway.advance = _RevokeAt(r.gateway, at=calls // 3)
        refs = [f"ORD-BURST-{i}" for i in range(calls)]
        if kind == "read-only":
            for ref in refs:
                r.gateway.set_status(ref, "00")
        results: list[object] = []

        async def one(ref: str) -> None:
            results.append(await r.call(kind, ref))

        async with anyio.create_task_group() as tg:
            for ref in refs:
                tg.start_soon(one, ref)

        path = r.path(kind)
        rejected = r.gateway.rejections.get("token", 0)
        assert len(results) == calls  # zero failures
        assert rejected > 0, "the revocation must hit requests already signed"
        assert r.gateway.token_requests == 2  # one refresh for the whole burst
        assert r.attempts(path) == calls + rejected  # each rejected call re-sent exactly once
        assert all(res.response.attempts in (1, 2) for res in results)  # type: ignore[attr-defined]
        new_token = r.gateway.issued[1]
        assert new_token != first_token
        resent = [rec for rec in r.faults.records_for(path)][-1]
        assert resent.request.headers["Authorization"] == f"Bearer {new_token}"
        if kind == "money-moving":
            assert sorted(r.gateway.ledger) == sorted(refs)  # each created exactly once


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
async def test_token_never_accepted_raises_invalid_token_after_one_refresh(
    kind: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    path = Rig.path(kind)
    async with rig(credentials, merchant_key) as r:
        r.gateway.set_status("ORD-1", "01")
        r.faults.inject_always(
            Fault.status(401, response_code="4015101", message="Invalid Token (B2B)"), path=path
        )
        with pytest.raises(InvalidTokenError) as info:
            await r.call(kind, "ORD-1")
        assert not isinstance(info.value, OutcomeUnknownError)
        assert info.value.response_code is not None
        assert info.value.response_code.case_code == "01"
        assert r.attempts(path) == 2
        assert r.gateway.token_requests == 2
        assert r.sleeps.delays == []  # the refresh-and-retry is immediate


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
async def test_clock_ten_minutes_off_fails_the_token_request_typed(
    kind: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    server = Clock()
    async with rig(
        credentials, merchant_key, clock=server, client_clock=lambda: server() + 600
    ) as r:
        with pytest.raises(AuthenticationError) as info:
            await r.call(kind, "ORD-1")
        error = info.value
        assert type(error) is AuthenticationError  # not an invalid-token retry, not retried
        assert error.response_code is not None
        assert error.response_code.value == "4017300"
        assert error.path == TOKEN_PATH
        assert r.attempts(TOKEN_PATH) == 1
        assert r.attempts(QUERY) + r.attempts(GENERATE) == 0
        assert r.gateway.rejections == {"timestamp": 1}


@pytest.mark.parametrize("kind", ["read-only", "money-moving"])
async def test_clock_jumping_ten_minutes_with_a_cached_token_fails_the_call_typed(
    kind: str, credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    server = Clock()
    offset = [0.0]
    async with rig(
        credentials, merchant_key, clock=server, client_clock=lambda: server() + offset[0]
    ) as r:
        r.gateway.set_status("ORD-1", "01")
        await r.client.get_access_token()
        offset[0] = -600.0  # the host clock is corrected backwards by ten minutes
        with pytest.raises(AuthenticationError) as info:
            await r.call(kind, "ORD-1" if kind == "read-only" else "ORD-2")
        assert type(info.value) is AuthenticationError
        assert info.value.response_code is not None
        assert info.value.response_code.case_code == "00"
        path = r.path(kind)
        assert r.attempts(path) == 1
        assert r.gateway.rejections == {"timestamp": 1}
        assert "ORD-2" not in r.gateway.ledger

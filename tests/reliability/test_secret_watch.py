"""The suite-wide leak check itself: it collects what it must and fails on a real leak.

(Leaks here are planted in synthetic records and plain exceptions, never through the SDK's
logger or error classes, so the autouse check around this very test stays clean.)
"""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import Credentials
from tests.conftest import CLIENT_SECRET
from tests.reliability._gateway import QUERY, rig
from tests.reliability._secret_watch import (
    SecretWatch,
    check,
    find_leaks,
    private_key_lines,
)


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("ayolinx_async", logging.INFO, __file__, 1, message, None, None)


def test_find_leaks_small_and_large_secret_sets() -> None:
    assert find_leaks(["abcdefgh123"], ["x abcdefgh123 y"]) == ["abcdefgh123"]
    assert find_leaks(["abcdefgh123"], ["abcdefgh12"]) == []
    assert find_leaks(["short"], ["short"]) == []  # below the minimum length: ignored
    many = [f"signature-{i:06d}-padding" for i in range(5_000)]
    text = "ok " * 20_000 + many[4321] + " end"
    assert find_leaks(many, [text]) == [many[4321]]
    assert find_leaks(many, ["ok " * 20_000]) == []


def test_private_key_lines_cover_both_pem_layouts(merchant_key: rsa.RSAPrivateKey) -> None:
    lines = private_key_lines(merchant_key)
    assert len(lines) > 40
    assert private_key_lines(merchant_key) is lines  # cached


def test_check_fails_on_a_leaked_secret_in_a_log_record_or_exception(
    request: pytest.FixtureRequest, merchant_key: rsa.RSAPrivateKey
) -> None:
    watch = SecretWatch()
    check(request, watch, [_record("all good")])  # nothing to find
    with pytest.raises(pytest.fail.Exception, match="leaked"):
        check(request, watch, [_record(f"secret is {CLIENT_SECRET}")])
    key_line = private_key_lines(merchant_key)[3]
    with pytest.raises(pytest.fail.Exception):
        check(request, watch, [_record(f"key {key_line}")])
    watch.secrets.add("tok-0123456789abcdef")
    watch.exceptions.append(ValueError("bad token tok-0123456789abcdef"))
    with pytest.raises(pytest.fail.Exception):
        check(request, watch, [])


@pytest.mark.anyio
async def test_the_watch_collects_tokens_signatures_secrets_and_sdk_errors(
    credentials: Credentials, merchant_key: rsa.RSAPrivateKey
) -> None:
    from ayolinx_async import ServerError
    from ayolinx_async.testing import Fault

    watch = SecretWatch()
    with pytest.MonkeyPatch.context() as patch:
        watch.install(patch)
        Credentials(client_key="CK-watch", client_secret="SK-watched-secret-1")
        async with rig(credentials, merchant_key, max_retries=0) as r:
            r.faults.inject(Fault.status(503), path=QUERY)
            with pytest.raises(ServerError):
                await r.client.request(QUERY, {}, idempotent=True)
            issued = r.gateway.issued[0]
            signatures = {rec.request.headers["X-SIGNATURE"] for rec in r.faults.records}
    assert issued in watch.secrets
    assert signatures <= watch.secrets
    assert "SK-watched-secret-1" in watch.secrets
    assert any(isinstance(e, ServerError) for e in watch.exceptions)
    assert [t.value for t in watch.tokens] == [issued]
    assert not find_leaks(watch.secrets, watch.texts([]))

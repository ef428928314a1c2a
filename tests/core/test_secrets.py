"""No secret appears in any repr, str(exception) or log record."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    APIError,
    Credentials,
    LocalSigner,
    ValidationError,
)
from tests._fakes import FakeAyolinx, json_response
from tests.conftest import CLIENT_SECRET

pytestmark = pytest.mark.anyio


async def test_no_secret_in_repr_exceptions_or_logs(
    credentials: Credentials,
    merchant_key: rsa.RSAPrivateKey,
    merchant_private_pem: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ayolinx_async")
    fake = FakeAyolinx()
    answers = iter(
        [
            json_response(401, {"responseCode": "4015101", "responseMessage": "Invalid token"}),
            json_response(200, {"responseCode": "2005100", "responseMessage": "Successful"}),
            json_response(400, {"responseCode": "4005102", "responseMessage": "Missing field"}),
        ]
    )
    fake.service = lambda request: next(answers)
    texts: list[str] = []
    async with fake.client(credentials) as client:
        token = await client.get_access_token()
        texts += [repr(token), str(token), repr(client), repr(credentials), str(credentials)]
        texts.append(repr(LocalSigner(merchant_key, CLIENT_SECRET)))
        await client.request("/p", {}, idempotent=True)
        with pytest.raises(APIError) as info:
            await client.request("/p", {}, idempotent=True)
        texts += [str(info.value), repr(info.value)]
        with pytest.raises(ValidationError) as vinfo:
            await client.request("/p", {}, external_id="bad id!")
        texts.append(str(vinfo.value))
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "the debug logger should have recorded the calls"
    secrets = [CLIENT_SECRET, "tok-1", "tok-2"]
    secrets += [r.headers["x-signature"] for r in fake.service_requests + fake.token_requests]
    secrets += [line for line in merchant_private_pem.decode().splitlines() if "-----" not in line]
    blob = "\n".join(texts)
    for secret in secrets:
        assert secret not in blob

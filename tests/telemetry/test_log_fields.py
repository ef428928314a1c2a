"""Every SDK log record carries its fields as ``extra`` attributes; the text stays as before."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ayolinx_async import Credentials, OutcomeUnknownError
from ayolinx_async._log import logger
from tests._fakes import FakeAyolinx, json_response

pytestmark = pytest.mark.anyio

QUERY = "/v1.0/qr/qr-mpm-query"
GENERATE = "/v1.0/qr/qr-mpm-generate"
FIELDS = ("operation", "path", "external_id", "response_code", "attempt", "duration", "outcome")


class _Fields(logging.Handler):
    """What a JSON logger sees: each record's ``__dict__``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({**record.__dict__, "text": record.getMessage()})


@pytest.fixture
def fields() -> Iterator[_Fields]:
    handler = _Fields()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_attempt_and_call_records_carry_fields(
    credentials: Credentials, fields: _Fields
) -> None:
    fake = FakeAyolinx()
    answers = [
        json_response(503, {"responseCode": "5035100", "responseMessage": "Down"}),
        json_response(200, {"responseCode": "2005100", "responseMessage": "Successful"}),
    ]
    fake.service = lambda request: answers.pop(0)
    async with fake.client(credentials) as client:
        result = await client.request(QUERY, {}, idempotent=True)
    attempts = [r for r in fields.records if r.get("path") == QUERY and "attempt" in r]
    info = [r for r in attempts if r["levelno"] == logging.INFO]
    assert [(r["attempt"], r["response_code"], r["status_code"]) for r in info] == [
        (1, "5035100", 503),
        (2, "2005100", 200),
    ]
    for record in info:
        assert record["operation"] == "qris.query"
        assert record["external_id"] == result.external_id
        assert isinstance(record["duration"], float)
        assert record["text"].startswith(f"POST {QUERY} -> ")  # the text form is unchanged
    (done,) = [r for r in fields.records if r.get("outcome") is not None]
    assert {k: done[k] for k in FIELDS if k != "duration"} == {
        "operation": "qris.query",
        "path": QUERY,
        "external_id": result.external_id,
        "response_code": "2005100",
        "attempt": 2,
        "outcome": "ok",
    }
    assert isinstance(done["duration"], float)


async def test_an_unknown_outcome_is_a_record_with_its_fields(
    credentials: Credentials, fields: _Fields
) -> None:
    fake = FakeAyolinx()

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    fake.service = timeout
    async with fake.client(credentials) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.post(GENERATE, {}, money_moving=True)
    (failed,) = [r for r in fields.records if r.get("path") == GENERATE and r.get("error_type")]
    assert failed["error_type"] == "ReadTimeoutError"
    assert failed["operation"] == "qris.generate"
    (done,) = [r for r in fields.records if r.get("outcome") is not None]
    assert done["outcome"] == "unknown"
    assert done["external_id"] == caught.value.external_id
    assert done["response_code"] is None


async def test_token_records_carry_fields_too(credentials: Credentials, fields: _Fields) -> None:
    fake = FakeAyolinx()
    async with fake.client(credentials) as client:
        await client.get_access_token()
    (token,) = [r for r in fields.records if r["levelno"] == logging.INFO]
    assert token["operation"] == "token"
    assert token["response_code"] == "2007300"
    assert token["external_id"] is None

"""Response decoding and the error tree (docs/protocol.md §12)."""

from __future__ import annotations

import httpx
import pytest

from ayolinx_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    Credentials,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadTimeoutError,
    ResponseCode,
    ResponseDecodeError,
    ServerError,
)
from tests._fakes import FakeAyolinx, json_response

pytestmark = pytest.mark.anyio


def test_response_code_parsing() -> None:
    code = ResponseCode.parse("4017300")
    assert (code.http_status, code.service_code, code.case_code) == (401, "73", "00")
    assert ResponseCode.parse("00") == ResponseCode(value="00")
    assert ResponseCode.parse("581000001").http_status is None
    assert str(ResponseCode.parse(2004700)) == "2004700"


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "4004701", BadRequestError),
        (401, "4014700", AuthenticationError),
        (403, "4034702", PermissionDeniedError),
        (404, "4045101", NotFoundError),
        (409, "4094701", ConflictError),
        (429, "4294700", RateLimitError),
        (500, "5004701", ServerError),
        (504, "5044700", ServerError),
        (200, "4005101", BadRequestError),  # HTTP 200 carrying a failure code
        (418, "4185100", APIError),
    ],
)
async def test_error_classes(credentials: Credentials, status: int, code: str, cls: type) -> None:
    fake = FakeAyolinx()
    fake.service = lambda request: json_response(
        status, {"responseCode": code, "responseMessage": "No"}
    )
    async with fake.client(credentials, max_retries=0) as client:
        with pytest.raises(cls) as info:
            await client.request(
                "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "R1"}, idempotent=True
            )
    err = info.value
    assert type(err) is cls
    assert isinstance(err, APIError)
    assert err.response_code is not None
    assert err.response_code.value == code
    assert err.service_code == code[3:5]
    assert err.case_code == code[5:]
    assert err.http_status == status
    assert err.external_id == fake.service_requests[0].headers["x-external-id"]
    assert err.body == {"responseCode": code, "responseMessage": "No"}
    assert err.raw.startswith(b"{")
    assert code in str(err)


@pytest.mark.parametrize("code", ["2000100", "00", "2007300"])
async def test_success_codes(credentials: Credentials, code: str) -> None:
    fake = FakeAyolinx()
    fake.service = lambda request: json_response(
        200, {"responseCode": code, "responseMessage": "Successful"}
    )
    async with fake.client(credentials) as client:
        result = await client.request("/p", {})
    assert result.response_code.value == code


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty response body"),
        (b"<html><body>502 Bad Gateway</body></html>", "HTML page"),
        (b'{"responseCode":"2005100","respo', "not valid JSON"),
        (b"[1,2]", "not an object"),
        (b'{"responseMessage":"ok"}', "no responseCode"),
    ],
)
async def test_undecodable_responses(
    credentials: Credentials, content: bytes, fragment: str
) -> None:
    fake = FakeAyolinx()
    fake.service = lambda request: httpx.Response(200, content=content)
    async with fake.client(credentials, max_retries=0) as client:
        with pytest.raises(ResponseDecodeError, match=fragment) as info:
            await client.request("/p", {}, idempotent=True)
    assert info.value.raw == content
    assert info.value.http_status == 200


async def test_network_failures_are_not_given_invented_snap_codes(credentials: Credentials) -> None:
    fake = FakeAyolinx()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.service = refuse
    async with fake.client(credentials, max_retries=0) as client:
        with pytest.raises(ConnectError) as info:
            await client.request("/p", {}, idempotent=True)
    assert not hasattr(info.value, "response_code")
    assert info.value.request_sent is False
    assert info.value.external_id == fake.service_requests[0].headers["x-external-id"]

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    fake.service = slow
    async with fake.client(credentials, max_retries=0) as client:
        with pytest.raises(ReadTimeoutError) as timeout_info:
            await client.request("/p", {}, idempotent=True)
    assert timeout_info.value.request_sent is True


async def test_money_moving_resend_answered_duplicate_id_is_outcome_unknown(
    credentials: Credentials,
) -> None:
    """Connect error, re-send, then 409xx00: the first attempt did arrive after all."""
    from ayolinx_async import OutcomeUnknownError

    fake = FakeAyolinx()
    answers = iter(["refuse", "duplicate"])

    def service(request: httpx.Request) -> httpx.Response:
        if next(answers) == "refuse":
            raise httpx.ConnectError("refused", request=request)
        return json_response(409, {"responseCode": "4094700", "responseMessage": "Conflict"})

    fake.service = service
    async with fake.client(credentials) as client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.request("/v1.0/qr/qr-mpm-generate", {"partnerReferenceNo": "R-9"})
    assert info.value.attempts == 2
    assert info.value.partner_reference_no == "R-9"
    ids = {r.headers["x-external-id"] for r in fake.service_requests}
    assert len(ids) == 1

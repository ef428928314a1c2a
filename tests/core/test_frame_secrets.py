"""Crash reporters capture frame locals (issue 12 §5): no SDK frame of a failed call holds the
access token or a signature in a form whose ``repr`` shows it."""

from __future__ import annotations

import json
import traceback

import httpx
import pytest

from ayolinx_async import AyolinxClient, Credentials, LocalSigner, OutcomeUnknownError
from ayolinx_async._errors import ReadTimeoutError, ResponseDecodeError
from ayolinx_async.signing._keys import load_private_key
from tests.reliability._secret_watch import sdk_frame_locals

TOKEN_VALUE = "tok-frames-5b0e2c7d9a41f3386e"


class RecordingSigner:
    """A local signer that remembers what it produced, so the test knows what to look for."""

    def __init__(self, inner: LocalSigner) -> None:
        self.inner = inner
        self.made: list[str] = []

    async def sign_token(self, string_to_sign: str) -> str:
        value = await self.inner.sign_token(string_to_sign)
        self.made.append(str(value))
        return value

    async def sign_service(self, string_to_sign: str) -> str:
        value = await self.inner.sign_service(string_to_sign)
        self.made.append(str(value))
        return value


def _client(
    credentials: Credentials, answer: httpx.MockTransport
) -> tuple[AyolinxClient, RecordingSigner]:
    assert credentials.private_key is not None
    key = load_private_key(credentials.private_key)
    signer = RecordingSigner(LocalSigner(key, credentials.client_secret))
    client = AyolinxClient(
        credentials,
        base_url="https://gw.test",
        http_client=httpx.AsyncClient(transport=answer),
        signer=signer,
        max_retries=0,
    )
    return client, signer


def _token_answer(request: httpx.Request) -> httpx.Response | None:
    if request.url.path.endswith("/access-token/b2b"):
        body = {"responseCode": "2007300", "accessToken": TOKEN_VALUE, "expiresIn": 900}
        return httpx.Response(200, content=json.dumps(body).encode())
    return None


def _all_locals(exc: BaseException) -> str:
    formatted = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return "".join(formatted.format())


def _assert_clean(exc: BaseException, signer: RecordingSigner) -> None:
    text = _all_locals(exc) + "\n".join(sdk_frame_locals(exc))
    assert TOKEN_VALUE not in text
    assert signer.made, "the call must have signed something"
    for signature in signer.made:
        assert signature not in text


@pytest.mark.anyio
async def test_unknown_outcome_traceback_locals_hold_no_token_or_signature(
    credentials: Credentials,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return _token_answer(request) or httpx.Response(
            500, content=b'{"responseCode":"5004700","responseMessage":"General Error"}'
        )

    client, signer = _client(credentials, httpx.MockTransport(answer))
    async with client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.request("/v1.0/qr/qr-mpm-generate", {"partnerReferenceNo": "F1"})
    _assert_clean(info.value, signer)


@pytest.mark.anyio
async def test_timeout_traceback_locals_hold_no_token_or_signature(
    credentials: Credentials,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        found = _token_answer(request)
        if found is None:
            raise httpx.ReadTimeout("slow", request=request)
        return found

    client, signer = _client(credentials, httpx.MockTransport(answer))
    async with client:
        with pytest.raises(ReadTimeoutError) as info:
            await client.request(
                "/v1.0/qr/qr-mpm-query", {"originalPartnerReferenceNo": "F2"}, idempotent=True
            )
    _assert_clean(info.value, signer)


@pytest.mark.anyio
async def test_a_bad_token_answer_keeps_the_token_out_of_the_frames(
    credentials: Credentials,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"responseCode": "2007300", "accessToken": TOKEN_VALUE, "expiresIn": "soon"}
        return httpx.Response(200, content=json.dumps(body).encode())

    client, signer = _client(credentials, httpx.MockTransport(answer))
    async with client:
        with pytest.raises(ResponseDecodeError) as info:
            await client.get_access_token()
    _assert_clean(info.value, signer)


def test_the_frame_check_does_see_a_plain_secret_local() -> None:
    """The guard itself can fail: a plain header dict in an SDK-like frame is found."""

    def leaky() -> None:
        headers = {"Authorization": "Bearer " + TOKEN_VALUE}
        raise RuntimeError(str(len(headers)))

    with pytest.raises(RuntimeError) as info:
        leaky()
    assert TOKEN_VALUE in _all_locals(info.value)

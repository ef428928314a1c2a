"""The simulator verifies exactly as the spec says and rejects with the right SNAP code."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import AyolinxClient, Credentials
from ayolinx_async._errors import AuthenticationError, ConflictError, InvalidTokenError
from ayolinx_async.simulator import MerchantAccount, Simulator
from tests._fakes import FakeClock
from tests.conftest import CLIENT_KEY

from ._helpers import RawCaller, qr_body

pytestmark = pytest.mark.anyio

GENERATE = "/v1.0/qr/qr-mpm-generate"
QUERY = "/v1.0/qr/qr-mpm-query"


def code_of(response: object) -> str:
    data = response.json()  # type: ignore[attr-defined]
    return str(data["responseCode"])


# -- token endpoint --------------------------------------------------------------------------


async def test_token_issued_with_documented_shape(raw: RawCaller, sim: Simulator) -> None:
    response = await raw.token_response()
    assert response.status_code == 200
    data = response.json()
    assert data["responseCode"] == "2007300"
    assert data["responseMessage"] == "Successful"
    assert data["tokenType"] == "Bearer"
    assert data["expiresIn"] == "900"  # a string, as the sandbox sends it
    assert len(data["accessToken"]) >= 32
    assert response.headers["content-type"] == "application/json"


async def test_bad_token_signature_is_4017300(raw: RawCaller) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = await raw.token_response(key=other)
    assert response.status_code == 401
    assert code_of(response) == "4017300"
    assert response.json()["responseMessage"] == "Unauthorized. Signature"
    assert "accessToken" not in response.json()


async def test_token_signed_over_other_string_is_4017300(raw: RawCaller) -> None:
    # Right key, wrong string-to-sign (e.g. the client secret instead of the key, pitfall §10.6).
    response = await raw.token_response(sign_client_key="SKSandbox-wrong")
    assert code_of(response) == "4017300"


async def test_wrong_client_key_is_4017300_unknown_client(raw: RawCaller) -> None:
    response = await raw.token_response(client_key="CKSandbox-someone-else")
    assert response.status_code == 401
    assert code_of(response) == "4017300"
    assert response.json()["responseMessage"] == "Unauthorized. Unknown client"


@pytest.mark.parametrize("header", ["X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE", "Content-Type"])
async def test_token_missing_header_is_4007302(raw: RawCaller, header: str) -> None:
    response = await raw.token_response(omit=[header])
    assert response.status_code == 400
    assert code_of(response) == "4007302"
    assert response.json()["responseMessage"] == f"Invalid Mandatory Field {header}"


@pytest.mark.parametrize(
    "timestamp",
    ["2024-09-12 12:55:00", "2024-09-12T12:55:00", "1726120500", "2024-09-12T12:55:00+0700"],
)
async def test_token_malformed_timestamp_is_4007301(raw: RawCaller, timestamp: str) -> None:
    response = await raw.token_response(timestamp=timestamp)
    assert response.status_code == 400
    assert code_of(response) == "4007301"
    assert response.json()["responseMessage"] == "Invalid Field Format X-TIMESTAMP"


async def test_token_timestamp_outside_window_is_4017300(raw: RawCaller, clock: FakeClock) -> None:
    stale = raw.timestamp()
    clock.advance(301)
    response = await raw.token_response(timestamp=stale)
    assert code_of(response) == "4017300"
    assert "window" in response.json()["responseMessage"]


async def test_token_accepts_utc_offset_timestamp(raw: RawCaller, clock: FakeClock) -> None:
    # The header page's example uses +00:00; only the instant matters.
    from datetime import UTC, datetime

    utc = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    response = await raw.token_response(timestamp=utc)
    assert code_of(response) == "2007300"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{}",
        b'{"grantType":"client_credentials"}',
        b'{"grant_type":"client_credentials","additionalInfo":{"channel":13}}',
    ],
)
async def test_token_body_is_tolerated_like_the_sandbox(raw: RawCaller, body: bytes) -> None:
    response = await raw.token_response(body=body)
    assert code_of(response) == "2007300"


@pytest.mark.parametrize(
    ("body", "code"),
    [(b'{"grantType":"password"}', "4007301"), (b"{oops", "4007300"), (b'"x"', "4007300")],
)
async def test_token_body_wrong_grant_or_garbage(raw: RawCaller, body: bytes, code: str) -> None:
    response = await raw.token_response(body=body)
    assert code_of(response) == code


# -- service signature, token, partner id --------------------------------------------------


async def test_valid_service_call_is_accepted(raw: RawCaller) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token)
    assert response.status_code == 200
    assert code_of(response) == "2004700"


async def test_bad_service_signature_is_401xx00(raw: RawCaller) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token, secret="not-the-secret")
    assert response.status_code == 401
    assert code_of(response) == "4014700"
    assert response.json()["responseMessage"] == "Unauthorized. Signature"


async def test_body_changed_after_signing_is_rejected(raw: RawCaller, sim: Simulator) -> None:
    token = await raw.token()
    signed = json.dumps(qr_body(value="10000.00"), separators=(",", ":")).encode()
    response = await raw.call(GENERATE, qr_body(value="99999.00"), token=token, signed_body=signed)
    assert code_of(response) == "4014700"
    assert sim.transactions() == []


async def test_reencoded_body_is_rejected_raw_bytes_are_signed(raw: RawCaller) -> None:
    # Same JSON value, different bytes (spaces): the server hashes what it received.
    token = await raw.token()
    pretty = json.dumps(qr_body(), indent=2).encode()
    compact = json.dumps(qr_body(), separators=(",", ":")).encode()
    response = await raw.call(GENERATE, pretty, token=token, signed_body=compact)
    assert code_of(response) == "4014700"
    ok = await raw.call(GENERATE, pretty, token=token, signed_body=pretty)
    assert code_of(ok) == "2004700"


async def test_signature_over_other_path_is_rejected(raw: RawCaller) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token, signed_path=QUERY)
    assert code_of(response) == "4014700"


async def test_expired_token_is_401xx01(raw: RawCaller, clock: FakeClock) -> None:
    token = await raw.token()
    clock.advance(900)
    response = await raw.call(GENERATE, qr_body(), token=token)
    assert response.status_code == 401
    assert code_of(response) == "4014701"
    assert response.json()["responseMessage"] == "Invalid Token (B2B)"


async def test_unknown_token_is_401xx01(raw: RawCaller) -> None:
    response = await raw.call(GENERATE, qr_body(), token="forged-token")
    assert code_of(response) == "4014701"


async def test_revoked_tokens_are_401xx01(raw: RawCaller, sim: Simulator) -> None:
    token = await raw.token()
    assert sim.revoke_tokens() == 1
    response = await raw.call(QUERY, {"originalPartnerReferenceNo": "x"}, token=token)
    assert code_of(response) == "4015101"


@pytest.mark.parametrize("authorization", ["Basic abc", "Bearer", "token-without-scheme"])
async def test_malformed_authorization_is_401xx01(raw: RawCaller, authorization: str) -> None:
    token = await raw.token()
    response = await raw.call(
        GENERATE, qr_body(), token=token, headers={"Authorization": authorization}
    )
    assert code_of(response) == "4014701"


async def test_partner_id_must_match_token_owner(raw: RawCaller) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token, partner_id="CKSandbox-other")
    assert response.status_code == 401
    assert code_of(response) == "4014700"
    assert "X-PARTNER-ID" in response.json()["responseMessage"]


async def test_token_of_one_merchant_cannot_sign_for_another(
    raw: RawCaller, sim: Simulator
) -> None:
    other = MerchantAccount.from_keys(
        client_key="CKSandbox-second",
        client_secret="SKSandbox-second",
        private_key=raw.private_key,
    )
    sim.add_merchant(other)
    token = await raw.token()  # belongs to CLIENT_KEY
    response = await raw.call(
        GENERATE, qr_body(), token=token, partner_id=other.client_key, secret="SKSandbox-second"
    )
    assert code_of(response) == "4014700"


@pytest.mark.parametrize(
    "header",
    [
        "Content-Type",
        "X-TIMESTAMP",
        "X-SIGNATURE",
        "X-PARTNER-ID",
        "X-EXTERNAL-ID",
        "Authorization",
    ],
)
async def test_missing_service_header_is_400xx02(raw: RawCaller, header: str) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token, omit=[header])
    assert response.status_code == 400
    assert code_of(response) == "4004702"
    assert response.json()["responseMessage"] == f"Invalid Mandatory Field {header}"


async def test_wrong_content_type_is_400xx01(raw: RawCaller) -> None:
    token = await raw.token()
    response = await raw.call(
        GENERATE, qr_body(), token=token, headers={"Content-Type": "text/plain"}
    )
    assert code_of(response) == "4004701"


@pytest.mark.parametrize(
    "timestamp", ["2024-09-12T12:55:00", "12/09/2024 12:55", "2024-09-12T12:55:00+07", "now"]
)
async def test_malformed_service_timestamp_is_400xx01(raw: RawCaller, timestamp: str) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token, timestamp=timestamp)
    assert response.status_code == 400
    assert code_of(response) == "4004701"
    assert response.json()["responseMessage"] == "Invalid Field Format X-TIMESTAMP"


async def test_service_timestamp_window_is_configurable(
    account: MerchantAccount,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    sim = Simulator(account, ayolinx_key=ayolinx_key, clock=clock, timestamp_tolerance=30)
    caller = RawCaller(
        sim,
        client_key=account.client_key,
        client_secret=account.client_secret,
        private_key=merchant_key,
        clock=clock,
    )
    try:
        token = await caller.token()
        early = caller.timestamp()
        clock.advance(29)
        inside = await caller.call(GENERATE, qr_body("A"), token=token, timestamp=early)
        assert code_of(inside) == "2004700"
        clock.advance(2)
        outside = await caller.call(GENERATE, qr_body("B"), token=token, timestamp=early)
        assert code_of(outside) == "4014700"
    finally:
        await caller.aclose()


# -- X-EXTERNAL-ID and partnerReferenceNo ---------------------------------------------------


async def test_reused_external_id_is_409xx00(raw: RawCaller, sim: Simulator) -> None:
    token = await raw.token()
    first = await raw.call(GENERATE, qr_body("A"), token=token, external_id="1234567890")
    assert code_of(first) == "2004700"
    again = await raw.call(
        QUERY, {"originalPartnerReferenceNo": "A"}, token=token, external_id="1234567890"
    )
    assert again.status_code == 409
    assert code_of(again) == "4095100"
    assert len(sim.transactions()) == 1


async def test_external_id_recorded_only_after_auth_passed(raw: RawCaller) -> None:
    token = await raw.token()
    bad = await raw.call(GENERATE, qr_body(), token=token, external_id="555", secret="wrong")
    assert code_of(bad) == "4014700"
    expired = await raw.call(GENERATE, qr_body(), token="nope", external_id="555")
    assert code_of(expired) == "4014701"
    good = await raw.call(GENERATE, qr_body(), token=token, external_id="555")
    assert code_of(good) == "2004700"


async def test_external_id_is_consumed_by_a_request_with_a_bad_body(raw: RawCaller) -> None:
    # Authentic but invalid: the id was used (SNAP: unique per request, not per success).
    token = await raw.token()
    invalid = await raw.call(GENERATE, {"amount": {}}, token=token, external_id="777")
    assert code_of(invalid) == "4004702"
    retry = await raw.call(GENERATE, qr_body(), token=token, external_id="777")
    assert code_of(retry) == "4094700"


async def test_external_id_may_repeat_on_the_next_jakarta_day(
    raw: RawCaller, clock: FakeClock
) -> None:
    clock.now = 1_726_160_390.0  # 2024-09-12T23:59:50+07:00
    token = await raw.token()
    first = await raw.call(GENERATE, qr_body("A"), token=token, external_id="42")
    assert code_of(first) == "2004700"
    clock.advance(5)  # still 12 September in Jakarta
    same_day = await raw.call(GENERATE, qr_body("B"), token=token, external_id="42")
    assert code_of(same_day) == "4094700"
    clock.advance(10)  # 13 September 00:00:05 in Jakarta (still the 12th in UTC)
    next_day = await raw.call(GENERATE, qr_body("C"), token=token, external_id="42")
    assert code_of(next_day) == "2004700"


async def test_external_ids_are_per_merchant(raw: RawCaller, sim: Simulator) -> None:
    second = MerchantAccount.from_keys(
        client_key="CKSandbox-second", client_secret="SK-2", private_key=raw.private_key
    )
    sim.add_merchant(second)
    token = await raw.token()
    assert code_of(await raw.call(GENERATE, qr_body(), token=token, external_id="9")) == "2004700"
    other = RawCaller(
        sim,
        client_key=second.client_key,
        client_secret="SK-2",
        private_key=raw.private_key,
        clock=raw.clock,
    )
    try:
        token2 = await other.token()
        response = await other.call(GENERATE, qr_body(), token=token2, external_id="9")
        assert code_of(response) == "2004700"  # same reference too: references are per merchant
    finally:
        await other.aclose()


@pytest.mark.parametrize("external_id", ["x" * 37, "abc-123", "abc def"])
async def test_malformed_external_id_is_400xx01(raw: RawCaller, external_id: str) -> None:
    token = await raw.token()
    response = await raw.call(GENERATE, qr_body(), token=token, external_id=external_id)
    assert code_of(response) == "4004701"


async def test_numeric_external_id_mode(
    account: MerchantAccount,
    ayolinx_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    sim = Simulator(account, ayolinx_key=ayolinx_key, clock=clock, numeric_external_id=True)
    caller = RawCaller(
        sim,
        client_key=account.client_key,
        client_secret=account.client_secret,
        private_key=merchant_key,
        clock=clock,
    )
    try:
        token = await caller.token()
        alpha = await caller.call(GENERATE, qr_body("A"), token=token, external_id="2jd9sl384")
        assert code_of(alpha) == "4004701"
        digits = await caller.call(GENERATE, qr_body("A"), token=token, external_id="418075533589")
        assert code_of(digits) == "2004700"
    finally:
        await caller.aclose()


async def test_reused_partner_reference_is_409xx01(raw: RawCaller) -> None:
    token = await raw.token()
    assert code_of(await raw.call(GENERATE, qr_body("DUP"), token=token)) == "2004700"
    again = await raw.call(GENERATE, qr_body("DUP"), token=token)
    assert again.status_code == 409
    assert code_of(again) == "4094701"
    assert again.json()["responseMessage"] == "Duplicate partnerReferenceNo. partnerReferenceNo"


# -- routing ----------------------------------------------------------------------------------


async def test_unknown_path_and_wrong_method(raw: RawCaller) -> None:
    token = await raw.token()
    unknown = await raw.call("/v1.0/qr/qr-mpm-refund", qr_body(), token=token)
    assert unknown.status_code == 404
    assert code_of(unknown) == "4040002"
    get = await raw.http.get(GENERATE)
    assert get.status_code == 405
    assert code_of(get) == "4054700"
    assert get.headers["allow"] == "POST"


# -- through the SDK client ---------------------------------------------------------------------


async def test_sdk_client_refreshes_a_short_lived_token(
    account: MerchantAccount, ayolinx_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    sim = Simulator(account, ayolinx_key=ayolinx_key, clock=clock, token_lifetime=5)
    async with sim.client() as client:
        await client.request(GENERATE, qr_body("A"))
        clock.advance(6)  # the cached token is dead; the cache must notice or refresh on 401
        await client.request(GENERATE, qr_body("B"))
        sim.revoke_tokens()  # server-side invalidation: 401xx01 -> refresh once and retry
        await client.request(GENERATE, qr_body("C"))
    token_calls = [r for r in sim.requests() if r.path == "/v1.0/access-token/b2b"]
    assert len(token_calls) == 3
    assert [r.response_code for r in sim.requests() if r.path == GENERATE][-2:] == [
        "4014701",
        "2004700",
    ]


async def test_sdk_client_maps_simulator_errors(sim: Simulator) -> None:
    async with sim.client() as client:
        await client.request(GENERATE, qr_body("SAME"))
        with pytest.raises(ConflictError) as info:
            await client.request(GENERATE, qr_body("SAME"))
    assert info.value.response_code is not None
    assert info.value.response_code.value == "4094701"
    assert info.value.case_code == "01"


async def test_sdk_client_with_a_wrong_secret_gets_a_signature_error(
    sim: Simulator, merchant_private_pem: bytes, clock: FakeClock
) -> None:
    wrong = Credentials(
        client_key=CLIENT_KEY, client_secret="wrong-secret", private_key=merchant_private_pem
    )
    async with AyolinxClient(
        wrong, base_url=sim.base_url, transport=sim.transport(), clock=clock
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.request(GENERATE, qr_body())
    assert not isinstance(info.value, InvalidTokenError)
    assert info.value.response_code is not None
    assert info.value.response_code.value == "4014700"

"""How resources use the client pipeline: money-moving flags, references, pass-through options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest

from ayolinx_async import (
    AyolinxClient,
    Credentials,
    OutcomeUnknownError,
    ReadTimeoutError,
    Timeout,
    ValidationError,
)
from ayolinx_async._resources import (
    EwalletResource,
    PaymentLinksResource,
    QrisResource,
    RetailResource,
    VirtualAccountsResource,
)
from ayolinx_async._response import APIResponse
from ayolinx_async.models import PaymentLinkItem

from ._wire import api_response, jakarta, json_response, make_client

pytestmark = pytest.mark.anyio

Call = Callable[[AyolinxClient], Awaitable[Any]]
OPTIONS: dict[str, Any] = {"external_id": "42", "timeout": 7.5}

# (test id, the call, path, money_moving, reference)
CASES: list[tuple[str, Call, str, bool, str]] = [
    (
        "qris.generate",
        lambda c: c.qris.generate(partner_reference_no="Q-1", amount=1, **OPTIONS),
        "/v1.0/qr/qr-mpm-generate",
        True,
        "Q-1",
    ),
    (
        "qris.query",
        lambda c: c.qris.query(original_partner_reference_no="Q-1", **OPTIONS),
        "/v1.0/qr/qr-mpm-query",
        False,
        "Q-1",
    ),
    (
        "qris.cancel",
        lambda c: c.qris.cancel(original_partner_reference_no="Q-1", **OPTIONS),
        "/v1.0/qr/qr-mpm-cancel",
        True,
        "Q-1",
    ),
    (
        "ewallet.create_payment",
        lambda c: c.ewallet.create_payment(partner_reference_no="E-1", amount=1, **OPTIONS),
        "/direct-debit/core/v1/debit/payment-host-to-host",
        True,
        "E-1",
    ),
    (
        "ewallet.inquire_status",
        lambda c: c.ewallet.inquire_status(original_partner_reference_no="E-1", **OPTIONS),
        "/direct-debit/core/v1/debit/status",
        False,
        "E-1",
    ),
    (
        "virtual_accounts.create",
        lambda c: c.virtual_accounts.create(
            channel="VIRTUAL_ACCOUNT_BNI",
            trx_id="V-1",
            customer_no="1",
            virtual_account_name="N",
            total_amount=1,
            **OPTIONS,
        ),
        "/v1.0/transfer-va/create-va",
        True,
        "V-1",
    ),
    (
        "virtual_accounts.inquire",
        lambda c: c.virtual_accounts.inquire(
            original_partner_reference_no="V-1", channel="VIRTUAL_ACCOUNT_BNI", **OPTIONS
        ),
        "/v1.0/transfer-va/inquiry-va",
        False,
        "V-1",
    ),
    (
        "retail.create",
        lambda c: c.retail.create(
            partner_reference_no="R-1",
            amount=1,
            channel="RETAIL_ALFAMIDI",
            valid_up_to=jakarta(2025, 1, 1),
            customer_name="N",
            customer_email="n@example.com",
            **OPTIONS,
        ),
        "/v1.0/retail/create",
        True,
        "R-1",
    ),
    (
        "retail.query",
        lambda c: c.retail.query(
            original_partner_reference_no="R-1", channel="RETAIL_ALFAMIDI", **OPTIONS
        ),
        "/v1.0/retail/query",
        False,
        "R-1",
    ),
    (
        "payment_links.create",
        lambda c: c.payment_links.create(
            partner_reference_no="L-1", items=[PaymentLinkItem(name="x", price=1)], **OPTIONS
        ),
        "/v1.0/payment-link/create",
        True,
        "L-1",
    ),
]


@pytest.mark.parametrize(
    ("call", "path", "money_moving", "reference"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_pipeline_flags_and_pass_through(
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    call: Call,
    path: str,
    money_moving: bool,
    reference: str,
) -> None:
    client, wire = make_client(credentials, {})
    seen: list[dict[str, Any]] = []

    async def fake_post(call_path: str, body: Mapping[str, Any], **kwargs: Any) -> APIResponse:
        seen.append({"path": call_path, "body": body, **kwargs})
        return api_response(
            {"responseCode": "2000000", "responseMessage": "OK", "qrContent": "000201"}
        )

    # Resources reach the client through its public seam, ``post``.
    monkeypatch.setattr(client, "post", fake_post)
    async with client:
        await call(client)
    assert len(seen) == 1
    sent = seen[0]
    assert sent["path"] == path
    assert sent["money_moving"] is money_moving
    assert sent["reference"] == reference
    assert sent["external_id"] == "42"
    assert sent["timeout"] == 7.5
    assert isinstance(sent["body"], dict)
    assert wire.total_requests == 0


def test_every_resource_is_attached(credentials: Credentials) -> None:
    client, _ = make_client(credentials, {})
    assert isinstance(client.qris, QrisResource)
    assert isinstance(client.ewallet, EwalletResource)
    assert isinstance(client.virtual_accounts, VirtualAccountsResource)
    assert isinstance(client.retail, RetailResource)
    assert isinstance(client.payment_links, PaymentLinksResource)


async def test_views_get_their_own_bound_resources(credentials: Credentials) -> None:
    client, wire = make_client(credentials, {"responseCode": "2005100", "responseMessage": "OK"})
    async with client:
        view = client.with_options(timeout=Timeout(connect=1, total=3))
        assert view.qris is not client.qris
        await view.qris.query(original_partner_reference_no="Q-1")
    assert len(wire.service_requests) == 1


async def test_money_moving_timeout_is_outcome_unknown_not_resent(
    credentials: Credentials,
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, wire = make_client(credentials, reply, max_retries=3, sleep=_no_sleep)
    async with client:
        with pytest.raises(OutcomeUnknownError) as info:
            await client.qris.generate(partner_reference_no="Q-9", amount=1000)
    assert info.value.partner_reference_no == "Q-9"
    assert len(wire.service_requests) == 1


async def test_read_only_timeout_is_retried(credentials: Credentials) -> None:
    answers = iter([None, json_response(200, {"responseCode": "2005100", "responseMessage": "OK"})])

    def reply(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if answer is None:
            raise httpx.ReadTimeout("slow", request=request)
        return answer

    client, wire = make_client(credentials, reply, max_retries=1, sleep=_no_sleep)
    async with client:
        result = await client.qris.query(original_partner_reference_no="Q-9")
    assert result.response.attempts == 2
    assert len(wire.service_requests) == 2
    # One logical call keeps one X-EXTERNAL-ID across attempts.
    ids = {request.headers["x-external-id"] for request in wire.service_requests}
    assert len(ids) == 1


async def test_read_only_timeout_without_retries_raises_transport_error(
    credentials: Credentials,
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_client(credentials, reply)
    async with client:
        with pytest.raises(ReadTimeoutError):
            await client.ewallet.inquire_status(original_partner_reference_no="E-1")


async def test_bad_external_id_is_refused_before_sending(credentials: Credentials) -> None:
    client, wire = make_client(credentials, {})
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.qris.query(original_partner_reference_no="Q-1", external_id="a-b")
    assert info.value.field == "external_id"
    assert wire.total_requests == 0


async def _no_sleep(seconds: float) -> None:
    return None

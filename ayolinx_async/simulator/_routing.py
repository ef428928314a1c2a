"""Answering one API request: routing, injected faults, authentication, the product desk and
the request log. :class:`~ayolinx_async.simulator.Simulator` owns one :class:`ApiRouter`."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import anyio
import attrs

from .._endpoints import Endpoint
from .._wire import format_timestamp
from ._accounts import MerchantAccount
from ._asgi import ASGISend, Request, drop_connection, send_json
from ._auth import IssuedTokens, Rejected, authenticate_service, authenticate_token_request
from ._codes import NO_SERVICE, Case, Outcome
from ._desk import Desk
from ._faults import FaultPlan, SimulatorFault
from ._ledger import ExternalIdRegistry, Transaction
from ._products import serve_product

__all__ = ["ApiRouter", "RequestRecord"]


@attrs.frozen(kw_only=True, slots=True)
class RequestRecord:
    """One API request as the simulator answered it (admin routes are not recorded)."""

    at: float
    path: str
    external_id: str | None
    http_status: int
    response_code: str
    fault: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_timestamp(self.at),
            "path": self.path,
            "externalId": self.external_id,
            "httpStatus": self.http_status,
            "responseCode": self.response_code,
            "fault": self.fault,
        }


class _Settings(Protocol):
    """The simulator settings an answer depends on (they may change while running)."""

    token_lifetime: int
    timestamp_tolerance: float
    numeric_external_id: bool


class ApiRouter:
    """Answers API requests for the simulator whose ``settings``, accounts and desk it is given;
    ``on_created`` hears of each new transaction once its answer is recorded."""

    def __init__(
        self,
        *,
        settings: _Settings,
        accounts: Mapping[str, MerchantAccount],
        desk: Desk,
        fault_plan: FaultPlan,
        clock: Callable[[], float],
        on_created: Callable[[Transaction], None],
        log_size: int,
    ) -> None:
        self._settings = settings
        self._accounts = accounts
        self._desk = desk
        self._fault_plan = fault_plan
        self._clock = clock
        self._on_created = on_created
        self._tokens = IssuedTokens()
        self._external_ids = ExternalIdRegistry()
        self._requests: deque[RequestRecord] = deque(maxlen=log_size)

    @property
    def tokens(self) -> IssuedTokens:
        return self._tokens

    def requests(self) -> list[RequestRecord]:
        return list(self._requests)

    async def answer(self, request: Request, send: ASGISend) -> None:
        """Answer one API request (never an admin route) and record it."""
        now = self._clock()
        endpoint = Endpoint.by_path(request.path)
        headers = {"X-TIMESTAMP": format_timestamp(now)}
        external_id = request.headers.get("x-external-id")
        if endpoint is None:
            outcome = Outcome.failure(Case.INVALID_ROUTING, NO_SERVICE)
            self._record(now, request.path, external_id, outcome, None)
            await send_json(send, outcome.http_status, _answer(outcome, {}), headers=headers)
            return
        if request.method != "POST":
            outcome = Outcome.failure(Case.METHOD_NOT_ALLOWED, endpoint.service_code)
            self._record(now, request.path, external_id, outcome, None)
            await send_json(
                send,
                outcome.http_status,
                _answer(outcome, {}),
                headers={**headers, "Allow": "POST"},
            )
            return
        is_token = endpoint is Endpoint.TOKEN
        delay = self._fault_plan.delay(request.path, is_token=is_token)
        if delay > 0:
            await anyio.sleep(delay)  # real latency, even when the clock is fake
        fault = self._fault_plan.draw(request.path, is_token=is_token)
        if fault is SimulatorFault.ERROR:
            outcome = Outcome.failure(Case.SERVER_ERROR, endpoint.service_code)
            self._record(now, request.path, external_id, outcome, fault)
            await send_json(send, outcome.http_status, _answer(outcome, {}), headers=headers)
            return
        created: Transaction | None = None
        try:
            if is_token:
                outcome, fields = self._issue_token(request, now)
            else:
                outcome, fields, created = self._serve(request, endpoint, now)
        except Rejected as rejected:
            outcome, fields = rejected.outcome, {}
        self._record(now, request.path, external_id, outcome, fault)
        if created is not None:
            self._on_created(created)
        if fault is SimulatorFault.DROP:
            await drop_connection(send)
            return
        await send_json(send, outcome.http_status, _answer(outcome, fields), headers=headers)

    def _issue_token(self, request: Request, now: float) -> tuple[Outcome, dict[str, Any]]:
        account = authenticate_token_request(
            request, self._accounts, now=now, tolerance=self._settings.timestamp_tolerance
        )
        token = self._tokens.issue(account.client_key, now, self._settings.token_lifetime)
        return Outcome.success(Endpoint.TOKEN), {
            "accessToken": token,
            "tokenType": "Bearer",
            # A string, as the sandbox sends it (docs/protocol.md §11).
            "expiresIn": str(self._settings.token_lifetime),
        }

    def _serve(
        self, request: Request, endpoint: Endpoint, now: float
    ) -> tuple[Outcome, dict[str, Any], Transaction | None]:
        auth = authenticate_service(
            request,
            endpoint,
            self._accounts,
            self._tokens,
            self._external_ids,
            now=now,
            tolerance=self._settings.timestamp_tolerance,
            numeric_external_id=self._settings.numeric_external_id,
        )
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise Rejected(Outcome.failure(Case.BAD_REQUEST, endpoint.service_code)) from None
        if not isinstance(body, dict):
            raise Rejected(Outcome.failure(Case.BAD_REQUEST, endpoint.service_code))
        handled = serve_product(self._desk, endpoint, auth.account, body, now, request.origin)
        return handled.outcome, handled.fields, handled.created

    def _record(
        self,
        now: float,
        path: str,
        external_id: str | None,
        outcome: Outcome,
        fault: SimulatorFault | None,
    ) -> None:
        # A dropped request keeps the answer it would have had: the server did act.
        self._requests.append(
            RequestRecord(
                at=now,
                path=path,
                external_id=external_id,
                http_status=outcome.http_status,
                response_code=outcome.code,
                fault=fault.value if fault is not None else None,
            )
        )


def _answer(outcome: Outcome, fields: dict[str, Any]) -> dict[str, Any]:
    return {"responseCode": outcome.code, "responseMessage": outcome.message, **fields}

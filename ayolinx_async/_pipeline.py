"""The call pipeline under :class:`~ayolinx_async.AyolinxClient`: one logical call is one
encoded body and one X-EXTERNAL-ID; each attempt gets a token (single-flight cache), a fresh
timestamp and signature, goes out through the attempt sender and is decoded; after a failure
:func:`~ayolinx_async._retries.decide` says what happens next (docs/architecture.md §2)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._auth.token import AccessToken, TokenCache
from ._config import Credentials
from ._errors import (
    ConfigurationError,
    OutcomeUnknownError,
    PoolTimeoutError,
    ResponseError,
    TransportError,
)
from ._gate import Gate, take_lent
from ._hints import annotate
from ._hooks import AttemptSender
from ._log import call_fields, logger
from ._response import APIResponse, SuccessRule, decode_response
from ._retries import (
    Action,
    Decision,
    RetryPolicy,
    coerce_timeout,
    decide,
    min_attempt,
    remaining_timeout,
    retry_after_of,
)
from ._secret import RedactedHeaders, Secret
from ._wire import (
    BodyEncoding,
    body_channel,
    body_reference,
    encode_body,
    format_timestamp,
    validate_external_id,
)
from .signing._signers import Signer
from .signing._strings import _service_string, body_digest
from .transport._base import Timeout, Transport

if TYPE_CHECKING:
    from ._telemetry import CallTrace, Telemetry

__all__ = ["CallOptions", "ClientCore", "get_token", "send_call", "signed_headers"]


@attrs.define(slots=True, eq=False)
class ClientCore:
    """State shared by a client and every ``with_options`` view of it."""

    credentials: Credentials
    base_url: str
    transport: Transport
    owns_transport: bool
    signer: Signer
    sender: AttemptSender
    token_cache: TokenCache
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    external_id_factory: Callable[[], str]
    body_encoding: BodyEncoding
    success_rule: SuccessRule
    closed: bool = False
    #: Headers identical on every service call, built once.
    static_headers: dict[str, str] = attrs.field(factory=dict)
    #: Traces and metrics (``telemetry=True``); ``None`` when off, the only check paid then.
    telemetry: Telemetry | None = None
    #: The payment tracker ``track=True`` hands created payments to (set by the tracker).
    tracker: Any = None
    #: Calls past this gate are signed and sent; the others wait before their body is even
    #: rendered (sized from the transport's ``max_in_flight``; ``None``: not gated).
    gate: Gate | None = None


@attrs.frozen(kw_only=True, slots=True)
class CallOptions:
    """Per-view settings: a ``with_options`` view changes these, nothing else."""

    timeout: Timeout
    retry: RetryPolicy


async def get_token(core: ClientCore, options: CallOptions) -> AccessToken:
    """A usable token, fetched if needed, with transient failures retried within the
    call's deadline."""
    policy = options.retry
    call_timeout = options.timeout
    deadline = core.clock() + call_timeout.total
    retries = 0
    while True:
        try:
            return await core.token_cache.get(
                remaining_timeout(call_timeout, deadline, core.clock())
            )
        except (TransportError, ResponseError) as exc:
            decision = _decide(core, exc, policy, call_timeout, deadline, retries=retries)
            if decision.action is not Action.RETRY:
                raise
            retries += 1
            await core.sleep(decision.delay)


async def send_call(
    core: ClientCore,
    options: CallOptions,
    path: str,
    body: Mapping[str, Any] | bytes,
    *,
    money_moving: bool,
    external_id: str | None = None,
    timeout: Timeout | float | None = None,
    reference: str | None = None,
) -> APIResponse:
    """One logical call with its retries; see :func:`~ayolinx_async._retries.decide`."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigurationError("path must start with '/'")
    content = encode_body(body, core.body_encoding)
    digest = body_digest(content)
    ext_id = validate_external_id(external_id) if external_id else core.external_id_factory()
    call_timeout = coerce_timeout(timeout) if timeout is not None else options.timeout
    # A call never outlives its own timeout: retries and their waits included.
    deadline = core.clock() + call_timeout.total
    policy = options.retry
    attempts = 0
    retries = 0
    id_attempts = 0  # attempts sent with the current X-EXTERNAL-ID
    token_refreshed = False
    started = time.perf_counter()
    tel = core.telemetry
    trace: CallTrace | None
    with _NO_TRACE if tel is None else tel.call(path, money_moving=money_moving) as trace:
        while True:
            attempts += 1
            id_attempts += 1
            token: AccessToken | None = None
            attempt_timeout = (
                call_timeout
                if attempts == 1
                else remaining_timeout(call_timeout, deadline, core.clock())
            )
            try:
                gate = core.gate
                if gate is not None:
                    # Waiting calls have not signed yet: they hold little memory, and their
                    # X-TIMESTAMP is taken when they go, not when they queued.
                    lent = take_lent(gate) if attempts == 1 else None
                    if lent is not None:
                        # A typed call waited at the gate before rendering its body; its
                        # slot (if it got one) is ours now, and the wait counts against the
                        # call's deadline and duration.
                        deadline = lent.started + call_timeout.total
                        started -= lent.waited
                        attempt_timeout = _in_time(
                            gate,
                            call_timeout,
                            deadline,
                            core.clock(),
                            lent.patience,
                            held=lent.held,
                        )
                    elif not gate.take():
                        attempt_timeout = await _queue(gate, call_timeout, deadline, core.clock)
                try:
                    token = await core.token_cache.get(attempt_timeout)
                    if trace is not None:
                        trace.attempt_started(attempts, ext_id)
                    headers = await signed_headers(core, path, token, digest, ext_id)
                    if trace is not None:
                        trace.inject(headers)
                    response = await core.sender.send(
                        path, headers, content, ext_id, attempts, attempt_timeout
                    )
                finally:
                    if gate is not None:
                        gate.release()
                try:
                    result = decode_response(
                        response,
                        path=path,
                        external_id=ext_id,
                        attempts=attempts,
                        success_rule=core.success_rule,
                    )
                except ResponseError as exc:
                    hint_context = headers.get("X-TIMESTAMP")
                    annotate(exc, base_url=core.base_url, token_call=False, timestamp=hint_context)
                    raise
                code = result.response_code.value
                if trace is not None:
                    trace.attempt_ok(result.http_status, code)
                _finished(path, ext_id, attempts, started, "ok", code)
                return result
            except (TransportError, ResponseError) as exc:
                decision = _decide(
                    core,
                    exc,
                    policy,
                    call_timeout,
                    deadline,
                    retries=retries,
                    money_moving=money_moving,
                    token_obtained=token is not None,
                    id_attempts=id_attempts,
                    token_refreshed=token_refreshed,
                )
                action = decision.action
                if trace is not None:
                    trace.attempt_failed(exc, action.value)
                if action is Action.RETRY:
                    retries += 1
                    await core.sleep(decision.delay)
                elif action is Action.RETRY_NEW_ID:
                    ext_id = core.external_id_factory()
                    id_attempts = 0
                elif action is Action.REFRESH_TOKEN and token is not None:
                    token_refreshed = True
                    core.token_cache.invalidate(token)
                elif action is Action.OUTCOME_UNKNOWN:
                    _finished(path, ext_id, attempts, started, "unknown", _code_of(exc))
                    raise OutcomeUnknownError(
                        path=path,
                        external_id=ext_id,
                        partner_reference_no=reference or body_reference(body),
                        attempts=attempts,
                        cause=exc,
                        channel=body_channel(body),
                    ) from exc
                else:
                    _finished(path, ext_id, attempts, started, "failed", _code_of(exc))
                    raise


_NO_TRACE = contextlib.nullcontext()


async def _queue(
    gate: Gate, timeout: Timeout, deadline: float, clock: Callable[[], float]
) -> Timeout:
    """Wait for a slot of ``gate`` while the attempt could still start with ``min_attempt``
    left, and return what is left of the call's timeout. A call that times out here was never
    sent (:class:`PoolTimeoutError`, safe to retry); the wait counts against its deadline."""
    seconds = max(deadline - min_attempt(timeout) - clock(), 0.0)
    if not await gate.acquire(seconds):
        raise PoolTimeoutError(f"no free connection within {seconds:.3g}s")
    return _in_time(gate, timeout, deadline, clock(), seconds)


def _in_time(
    gate: Gate, timeout: Timeout, deadline: float, now: float, waited: float, held: bool = True
) -> Timeout:
    """The attempt's timeout after a wait of up to ``waited`` seconds for a slot: what is
    left of the call's. No slot (``held`` false), or one that came too late to be worth a
    (maybe-sent) attempt and is given back, is a pool timeout: never sent."""
    if not held or deadline - now < min_attempt(timeout):
        if held:
            gate.release()
        raise PoolTimeoutError(f"no free connection within {waited:.3g}s")
    return remaining_timeout(timeout, deadline, now)


def _decide(
    core: ClientCore,
    exc: TransportError | ResponseError,
    policy: RetryPolicy,
    call_timeout: Timeout,
    deadline: float,
    *,
    retries: int,
    money_moving: bool = False,
    token_obtained: bool = False,
    id_attempts: int = 1,
    token_refreshed: bool = False,
) -> Decision:
    """:func:`decide` for a failure now, with the clock, ``Retry-After`` and the time left read
    the same way for every call; the defaults describe a failed token fetch (nothing sent)."""
    now = core.clock()
    return decide(
        exc,
        money_moving=money_moving,
        token_obtained=token_obtained,
        retries=retries,
        id_attempts=id_attempts,
        token_refreshed=token_refreshed,
        policy=policy,
        retry_after=retry_after_of(exc, now),
        now=now,
        deadline=deadline,
        min_attempt=min_attempt(call_timeout),
    )


def _code_of(exc: BaseException) -> str | None:
    """The SNAP ``responseCode`` a failure carries, if an answer arrived."""
    code = getattr(exc, "response_code", None)
    return code.value if code is not None else None


def _finished(
    path: str, external_id: str, attempts: int, started: float, outcome: str, code: str | None
) -> None:
    """The call's last log record (debug): its outcome and fields, for JSON loggers."""
    if logger.isEnabledFor(logging.DEBUG):
        duration = time.perf_counter() - started
        logger.debug(
            "POST %s %s after %d attempt(s) (X-EXTERNAL-ID=%s %.3fs)",
            path,
            outcome,
            attempts,
            external_id,
            duration,
            extra=call_fields(
                path, external_id, attempts, duration, response_code=code, outcome=outcome
            ),
        )


async def signed_headers(
    core: ClientCore, path: str, token: AccessToken, digest: str, external_id: str
) -> RedactedHeaders:
    """The headers of one service attempt: a fresh timestamp and signature. Returned as
    :class:`RedactedHeaders` and built here, so no caller frame holds the token or signature
    in a form a crash reporter would print."""
    timestamp = format_timestamp(core.clock())
    signature = Secret(
        await core.signer.sign_service(
            Secret(_service_string("POST", path, token.value, digest, timestamp))
        )
    )
    headers = RedactedHeaders(core.static_headers)
    headers["X-TIMESTAMP"] = timestamp
    headers["X-SIGNATURE"] = signature
    headers["X-EXTERNAL-ID"] = external_id
    headers["Authorization"] = "Bearer " + token.value
    return headers

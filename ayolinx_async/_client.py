"""``AyolinxClient``: lifecycle, the signed-call pipeline, retries and the resource groups.

One logical call = one encoded body and one X-EXTERNAL-ID; every attempt gets a fresh timestamp
and signature (design §1).
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import attrs
import httpx

from . import _log
from ._auth.stores import TokenStore, token_store_key
from ._auth.token import AccessToken, RefreshPolicy, TokenCache
from ._config import Credentials, Environment, environment_from_env
from ._errors import (
    APIError,
    AyolinxError,
    ConfigurationError,
    OutcomeUnknownError,
    ResponseCode,
    ResponseDecodeError,
    ResponseError,
    TransportError,
    api_error_class,
)
from ._log import logger, redact_headers
from ._response import APIResponse, default_success_rule
from ._retries import Action, RetryPolicy, decide, parse_retry_after
from ._secret import RedactedHeaders, Secret
from ._wire import (
    BodyEncoding,
    encode_body,
    format_timestamp,
    new_external_id,
    validate_external_id,
)
from .signing._keys import load_private_key
from .signing._signers import LocalSigner, Signer
from .signing._strings import _service_string, body_digest, token_string_to_sign
from .transport._base import HttpRequest, HttpResponse, Timeout, Transport
from .transport._httpx import HttpxTransport

if TYPE_CHECKING:
    from ._reconcile import Product
    from ._resources import (
        EwalletResource,
        PaymentLinksResource,
        QrisResource,
        RetailResource,
        VirtualAccountsResource,
    )
    from .models._common import Channel, TransactionStatusResponse

__all__ = ["TOKEN_PATH", "AyolinxClient", "RequestEvent", "ResponseEvent"]

TOKEN_PATH = "/v1.0/access-token/b2b"
_TOKEN_BODY = b'{"grantType":"client_credentials"}'
_USER_AGENT = "ayolinx-async"

SuccessRule = Callable[[int, ResponseCode], bool]

#: The timeout of the call that is waiting for a token, so a token request made on behalf of a
#: ``with_options(timeout=...)`` view or a per-call ``timeout=`` honours it (task-local).
_TOKEN_TIMEOUT: contextvars.ContextVar[Timeout | None] = contextvars.ContextVar(
    "ayolinx_token_timeout", default=None
)


@attrs.frozen(kw_only=True, slots=True)
class RequestEvent:
    """What an ``on_request`` hook sees: no signature, no token, no body."""

    method: str
    path: str
    url: str
    headers: Mapping[str, str]
    external_id: str | None
    attempt: int


@attrs.frozen(kw_only=True, slots=True)
class ResponseEvent:
    """What an ``on_response`` hook sees after each attempt (``error`` names a failure type)."""

    request: RequestEvent
    status_code: int | None
    response_code: str | None
    elapsed: float
    error: str | None = None


Hook = Callable[[Any], Awaitable[None]]


@attrs.define(slots=True, eq=False)
class _Core:
    """State shared by a client and every ``with_options`` view of it."""

    credentials: Credentials
    base_url: str
    transport: Transport
    owns_transport: bool
    signer: Signer
    token_cache: TokenCache
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    external_id_factory: Callable[[], str]
    body_encoding: BodyEncoding
    success_rule: SuccessRule
    closed: bool = False
    #: Headers identical on every service call, built once.
    static_headers: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True, slots=True)
class _Options:
    timeout: Timeout
    retry: RetryPolicy
    on_request: Hook | None = None
    on_response: Hook | None = None


def _coerce_timeout(timeout: Timeout | float | None) -> Timeout:
    if timeout is None:
        return Timeout()
    if isinstance(timeout, Timeout):
        return timeout
    return Timeout(connect=min(5.0, float(timeout)), total=float(timeout))


def _reference_of(body: object) -> str | None:
    if isinstance(body, Mapping):
        for key in ("partnerReferenceNo", "trxId", "originalPartnerReferenceNo"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return None


class AyolinxClient:
    """Async client for the Ayolinx OpenAPI. Use as ``async with AyolinxClient(...) as client``.

    Construction does no network I/O. Keys are loaded (and checked) here, so a bad key fails
    before the first payment.
    """

    _core: _Core
    _options: _Options
    qris: QrisResource
    ewallet: EwalletResource
    virtual_accounts: VirtualAccountsResource
    retail: RetailResource
    payment_links: PaymentLinksResource

    def __init__(
        self,
        credentials: Credentials,
        *,
        environment: Environment = Environment.SANDBOX,
        base_url: str | None = None,
        transport: Transport | None = None,
        http_client: httpx.AsyncClient | None = None,
        signer: Signer | None = None,
        timeout: Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        max_retries: int | None = None,
        refresh_policy: RefreshPolicy | None = None,
        token_store: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        external_id_factory: Callable[[], str] = new_external_id,
        body_encoding: BodyEncoding = BodyEncoding.COMPACT,
        success_rule: SuccessRule = default_success_rule,
        on_request: Hook | None = None,
        on_response: Hook | None = None,
    ) -> None:
        _log.configure_from_env()
        if not isinstance(credentials, Credentials):
            raise ConfigurationError("credentials must be an ayolinx_async.Credentials")
        url = (base_url or environment.base_url).rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError("base_url must start with https:// or http://")
        if signer is None:
            if credentials.private_key is None:
                raise ConfigurationError("private_key is required unless a signer= is given")
            min_bits = 2048 if environment is Environment.PRODUCTION and base_url is None else 0
            key = load_private_key(
                credentials.private_key,
                credentials.private_key_password,
                min_key_size=min_bits,
            )
            signer = LocalSigner(key, credentials.client_secret)
        elif not isinstance(signer, Signer):
            raise ConfigurationError("signer must implement sign_token() and sign_service()")
        options_timeout = _coerce_timeout(timeout)
        if transport is not None and http_client is not None:
            raise ConfigurationError("pass either transport= or http_client=, not both")
        owns = transport is None
        if transport is None:
            transport = HttpxTransport(http_client, timeout=options_timeout)
            owns = True  # our wrapper; it never closes a user's http_client
        if retry is None:
            retry = RetryPolicy()
        if max_retries is not None:
            retry = attrs.evolve(retry, max_retries=max_retries)
        core = _Core(
            credentials=credentials,
            base_url=url,
            transport=transport,
            owns_transport=owns,
            signer=signer,
            token_cache=TokenCache(
                self._fetch_token,
                clock=clock,
                policy=refresh_policy,
                store=token_store,
                store_key=token_store_key(url, credentials.client_key),
            ),
            clock=clock,
            sleep=sleep,
            external_id_factory=external_id_factory,
            body_encoding=body_encoding,
            success_rule=success_rule,
            static_headers={
                "Content-Type": "application/json",
                "X-PARTNER-ID": credentials.client_key,
                "User-Agent": _USER_AGENT,
            },
        )
        self._init(
            core,
            _Options(
                timeout=options_timeout, retry=retry, on_request=on_request, on_response=on_response
            ),
        )

    def _init(self, core: _Core, options: _Options) -> None:
        self._core = core
        self._options = options
        self._is_view = False
        self._attach_resources()

    def _attach_resources(self) -> None:
        """Create the typed resource groups (``client.qris`` …) bound to this client."""
        from ._resources import attach_resources

        attach_resources(self)

    @classmethod
    def from_env(cls, **kwargs: Any) -> AyolinxClient:
        """Build a client from the ``AYOLINX_*`` environment variables (design §6)."""
        environment, base_url = environment_from_env()
        kwargs.setdefault("environment", environment)
        if base_url is not None:
            kwargs.setdefault("base_url", base_url)
        return cls(Credentials.from_env(), **kwargs)

    def with_options(
        self,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> AyolinxClient:
        """A view with other timeout/retry settings sharing this client's token cache and
        transport. Closing a view does nothing; close the root client."""
        options = self._options
        if timeout is not None:
            options = attrs.evolve(options, timeout=_coerce_timeout(timeout))
        if retry is not None:
            options = attrs.evolve(options, retry=retry)
        if max_retries is not None:
            options = attrs.evolve(
                options, retry=attrs.evolve(options.retry, max_retries=max_retries)
            )
        view = object.__new__(type(self))
        view._init(self._core, options)
        view._is_view = True
        return view

    def __repr__(self) -> str:
        return f"<AyolinxClient base_url={self._core.base_url!r} {self._core.credentials!r}>"

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport if this client created it. Views never close anything."""
        if self._is_view or self._core.closed:
            return
        self._core.closed = True
        if self._core.owns_transport:
            await self._core.transport.aclose()

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def credentials(self) -> Credentials:
        return self._core.credentials

    @property
    def token_cache(self) -> TokenCache:
        return self._core.token_cache

    @property
    def transport(self) -> Transport:
        return self._core.transport

    # -- tokens ------------------------------------------------------------------------------

    async def get_access_token(self) -> AccessToken:
        """The current B2B access token, fetched (single-flight) if missing or stale."""
        self._ensure_open()
        core = self._core
        policy = self._options.retry
        call_timeout = self._options.timeout
        deadline = core.clock() + call_timeout.total
        retries = 0
        while True:
            marker = _TOKEN_TIMEOUT.set(_remaining(call_timeout, deadline, core.clock()))
            try:
                return await core.token_cache.get()
            except (TransportError, APIError, ResponseDecodeError) as exc:
                now = core.clock()
                decision = decide(
                    exc,
                    money_moving=False,
                    token_obtained=False,
                    retries=retries,
                    id_attempts=1,
                    token_refreshed=False,
                    policy=policy,
                    retry_after=_retry_after_of(exc, now),
                    now=now,
                    deadline=deadline,
                    min_attempt=_min_attempt(call_timeout),
                )
                if decision.action is not Action.RETRY:
                    raise
                retries += 1
                await core.sleep(decision.delay)
            finally:
                _TOKEN_TIMEOUT.reset(marker)

    async def _fetch_token(self) -> AccessToken:
        core = self._core
        # Lifetime counts from when the request left, not when the answer arrived: under load
        # the round trip would otherwise overstate the token's life.
        sent_at = core.clock()
        timestamp = format_timestamp(sent_at)
        signature = Secret(
            await core.signer.sign_token(
                token_string_to_sign(core.credentials.client_key, timestamp)
            )
        )
        headers = RedactedHeaders(
            {
                "Content-Type": "application/json",
                "X-TIMESTAMP": timestamp,
                "X-CLIENT-KEY": core.credentials.client_key,
                "X-SIGNATURE": signature,
            }
        )
        response = await self._exchange(
            TOKEN_PATH, headers, _TOKEN_BODY, None, 1, _TOKEN_TIMEOUT.get() or self._options.timeout
        )
        api = self._interpret(response, TOKEN_PATH, None, 1)
        value = api.body.get("accessToken")
        if isinstance(value, str):
            value = Secret(value)
        if not isinstance(value, str) or not value:
            raise ResponseDecodeError(
                "token response has no accessToken", http_status=api.http_status, raw=b""
            )
        expires_in = api.body.get("expiresIn", 900)
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            raise ResponseDecodeError(
                "token response has a non-numeric expiresIn", http_status=api.http_status, raw=b""
            ) from None
        if lifetime <= 0:
            raise ResponseDecodeError(
                "token response has a non-positive expiresIn", http_status=api.http_status, raw=b""
            )
        token_type = str(api.body.get("tokenType") or "Bearer")
        return AccessToken.from_lifetime(value, lifetime, sent_at, token_type)

    # -- the pipeline ------------------------------------------------------------------------

    async def request(
        self,
        path: str,
        body: Mapping[str, Any] | bytes,
        *,
        external_id: str | None = None,
        timeout: Timeout | float | None = None,
        idempotent: bool = False,
        reference: str | None = None,
    ) -> APIResponse:
        """Send a signed call to any endpoint and return the decoded success response.

        ``idempotent=True`` marks a read-only call (retried on timeouts and 5xx); the default
        treats the call as money-moving (re-sent only if it provably never left).
        ``reference`` names the transaction in an ``OutcomeUnknownError`` (default: the body's
        ``partnerReferenceNo``/``trxId``).
        """
        return await self._call(
            path,
            body,
            money_moving=not idempotent,
            external_id=external_id,
            timeout=timeout,
            reference=reference,
        )

    async def post(
        self,
        path: str,
        body: Mapping[str, Any] | bytes,
        *,
        money_moving: bool,
        reference: str | None = None,
        external_id: str | None = None,
        timeout: Timeout | float | None = None,
    ) -> APIResponse:
        """Send one signed call and return the decoded success: the seam the typed resources
        (and your own endpoint wrappers) build on.

        ``money_moving=True`` means the call may move money: it is re-sent only when it
        provably never left, and an ambiguous failure raises :class:`OutcomeUnknownError`
        naming ``reference``. Read-only calls are retried on timeouts, 429 and 5xx.
        """
        return await self._call(
            path,
            body,
            money_moving=money_moving,
            external_id=external_id,
            timeout=timeout,
            reference=reference,
        )

    async def reconcile(
        self,
        error_or_reference: OutcomeUnknownError | str,
        *,
        product: Product | str | None = None,
        channel: Channel | str | None = None,
        timeout: Timeout | float | None = None,
    ) -> TransactionStatusResponse:
        """ "Did it happen?" in one call: query the status of the transaction behind an
        :class:`OutcomeUnknownError` (or a reference of ``product``) and return it typed."""
        from ._reconcile import reconcile

        return await reconcile(
            self, error_or_reference, product=product, channel=channel, timeout=timeout
        )

    async def _call(
        self,
        path: str,
        body: Mapping[str, Any] | bytes,
        *,
        money_moving: bool,
        external_id: str | None = None,
        timeout: Timeout | float | None = None,
        reference: str | None = None,
    ) -> APIResponse:
        self._ensure_open()
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigurationError("path must start with '/'")
        core = self._core
        content = encode_body(body, core.body_encoding)
        digest = body_digest(content)
        ext_id = validate_external_id(external_id) if external_id else core.external_id_factory()
        call_timeout = _coerce_timeout(timeout) if timeout is not None else self._options.timeout
        # A call never outlives its own timeout: retries and their waits included.
        deadline = core.clock() + call_timeout.total
        policy = self._options.retry
        attempts = 0
        retries = 0
        id_attempts = 0  # attempts sent with the current X-EXTERNAL-ID
        token_refreshed = False
        while True:
            attempts += 1
            id_attempts += 1
            token: AccessToken | None = None
            attempt_timeout = (
                call_timeout if attempts == 1 else _remaining(call_timeout, deadline, core.clock())
            )
            try:
                marker = _TOKEN_TIMEOUT.set(attempt_timeout)
                try:
                    token = await core.token_cache.get()
                finally:
                    _TOKEN_TIMEOUT.reset(marker)
                headers = await self._signed_headers(path, token, digest, ext_id)
                response = await self._exchange(
                    path, headers, content, ext_id, attempts, attempt_timeout
                )
                return self._interpret(response, path, ext_id, attempts)
            except (TransportError, APIError, ResponseDecodeError) as exc:
                now = core.clock()
                decision = decide(
                    exc,
                    money_moving=money_moving,
                    token_obtained=token is not None,
                    retries=retries,
                    id_attempts=id_attempts,
                    token_refreshed=token_refreshed,
                    policy=policy,
                    retry_after=_retry_after_of(exc, now),
                    now=now,
                    deadline=deadline,
                    min_attempt=_min_attempt(call_timeout),
                )
                action = decision.action
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
                    raise OutcomeUnknownError(
                        path=path,
                        external_id=ext_id,
                        partner_reference_no=reference or _reference_of(body),
                        attempts=attempts,
                        cause=exc,
                        channel=_channel_of(body),
                    ) from exc
                else:
                    raise

    async def _signed_headers(
        self, path: str, token: AccessToken, digest: str, external_id: str
    ) -> RedactedHeaders:
        """The headers of one service attempt: a fresh timestamp and signature. Returned as
        :class:`RedactedHeaders` and built here, so no caller frame holds the token or
        signature in a form a crash reporter would print."""
        core = self._core
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

    async def _exchange(
        self,
        path: str,
        headers: RedactedHeaders,
        content: bytes,
        external_id: str | None,
        attempt: int,
        timeout: Timeout,
    ) -> HttpResponse:
        """Send one attempt, with logging and hooks around it."""
        core = self._core
        headers.setdefault("User-Agent", _USER_AGENT)
        url = core.base_url + path
        request = HttpRequest(
            method="POST", url=url, headers=headers, content=content, timeout=timeout
        )
        event: RequestEvent | None = None
        options = self._options
        if options.on_request is not None or options.on_response is not None:
            event = RequestEvent(
                method="POST",
                path=path,
                url=url,
                headers=redact_headers(headers),
                external_id=external_id,
                attempt=attempt,
            )
            if options.on_request is not None:
                await _emit(options.on_request, event)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "POST %s request headers %s (attempt=%d)", path, redact_headers(headers), attempt
            )
        started = time.perf_counter()
        try:
            try:
                response = await core.transport.send(request)
            except (AyolinxError, anyio.get_cancelled_exc_class()):
                raise
            except Exception as exc:
                # A third-party transport leaked its own error: the request may have been sent.
                raise TransportError(f"transport failure: {type(exc).__name__}") from exc
        except TransportError as exc:
            exc.external_id = external_id
            elapsed = time.perf_counter() - started
            logger.info(
                "POST %s failed: %s (X-EXTERNAL-ID=%s attempt=%d %.3fs)",
                path,
                type(exc).__name__,
                external_id,
                attempt,
                elapsed,
            )
            if event is not None and options.on_response is not None:
                await _emit(
                    options.on_response,
                    ResponseEvent(
                        request=event,
                        status_code=None,
                        response_code=None,
                        elapsed=elapsed,
                        error=type(exc).__name__,
                    ),
                )
            raise
        elapsed = time.perf_counter() - started
        if logger.isEnabledFor(20) or (event is not None and options.on_response is not None):
            code = _peek_code(response.content)
            logger.info(
                "POST %s -> %d responseCode=%s (X-EXTERNAL-ID=%s attempt=%d %.3fs)",
                path,
                response.status_code,
                code,
                external_id,
                attempt,
                elapsed,
            )
            if event is not None and options.on_response is not None:
                await _emit(
                    options.on_response,
                    ResponseEvent(
                        request=event,
                        status_code=response.status_code,
                        response_code=code,
                        elapsed=elapsed,
                    ),
                )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "POST %s response headers %s (X-EXTERNAL-ID=%s attempt=%d)",
                path,
                redact_headers(response.headers),
                external_id,
                attempt,
            )
        return response

    def _interpret(
        self, response: HttpResponse, path: str, external_id: str | None, attempts: int
    ) -> APIResponse:
        """Decode JSON and apply the success rule; raise the typed error otherwise."""
        status, raw = response.status_code, response.content
        if not raw.strip():
            raise ResponseDecodeError(
                "empty response body",
                http_status=status,
                raw=raw,
                external_id=external_id,
                headers=response.headers,
            )
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            kind = "an HTML page" if raw.lstrip()[:1] == b"<" else "not valid JSON"
            raise ResponseDecodeError(
                f"response body is {kind}",
                http_status=status,
                raw=raw,
                external_id=external_id,
                headers=response.headers,
            ) from None
        if not isinstance(data, dict):
            raise ResponseDecodeError(
                "response JSON is not an object",
                http_status=status,
                raw=raw,
                external_id=external_id,
            )
        code_value = data.get("responseCode")
        code = ResponseCode.parse(code_value) if code_value is not None else None
        message = str(data.get("responseMessage") or "")
        if code is not None and self._core.success_rule(status, code):
            return APIResponse(
                http_status=status,
                response_code=code,
                response_message=message,
                body=data,
                raw=raw,
                headers=response.headers,
                external_id=external_id,
                path=path,
                attempts=attempts,
            )
        if code is None and 200 <= status < 300:
            raise ResponseDecodeError(
                "response has no responseCode", http_status=status, raw=raw, external_id=external_id
            )
        cls = api_error_class(status, code)
        error = cls(
            http_status=status,
            response_code=code,
            message=message,
            body=data,
            raw=raw,
            external_id=external_id,
            path=path,
            headers=response.headers,
        )
        raise error

    def _ensure_open(self) -> None:
        if self._core.closed:
            raise ConfigurationError("this AyolinxClient is closed")


def _peek_code(raw: bytes) -> str | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    value = data.get("responseCode") if isinstance(data, dict) else None
    return None if value is None else str(value)


def _retry_after_of(exc: AyolinxError, now: float) -> float | None:
    """The server's ``Retry-After`` in seconds, also recorded on the error for the caller."""
    if not isinstance(exc, ResponseError):
        return None
    exc.retry_after = parse_retry_after(exc.headers.get("retry-after"), now)
    return exc.retry_after


def _remaining(timeout: Timeout, deadline: float, now: float) -> Timeout:
    """The attempt's timeout: the call's, cut to what is left before its deadline."""
    left = deadline - now
    if left >= timeout.total:
        return timeout
    left = max(left, 0.001)
    return Timeout(connect=min(timeout.connect, left), total=left)


def _min_attempt(timeout: Timeout) -> float:
    """The least time worth starting a retry with: a sliver of a budget only turns a clean
    failure into an ambiguous timeout."""
    return min(1.0, timeout.total / 4)


def _channel_of(body: object) -> str | None:
    """``additionalInfo.channel`` of a request body (recorded on an OutcomeUnknownError)."""
    if isinstance(body, Mapping):
        info = body.get("additionalInfo")
        if isinstance(info, Mapping):
            value = info.get("channel")
            if isinstance(value, str) and value:
                return value
    return None


async def _emit(hook: Hook, event: RequestEvent | ResponseEvent) -> None:
    """Run an event hook; its failure is logged, never allowed to change the call's outcome."""
    try:
        await hook(event)
    except Exception as exc:
        logger.warning("an event hook failed (%s); the call goes on", type(exc).__name__)

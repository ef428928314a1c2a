"""``AyolinxClient``: lifecycle, options and the call loop.

One logical call = one encoded body and one X-EXTERNAL-ID; every attempt gets a fresh timestamp
and signature (docs/architecture.md §2). The layers below are one-way: the retry decision is
:func:`~ayolinx_async._retries.decide`, tokens come from the cache (``_auth/``), one attempt is
:class:`~ayolinx_async._hooks.AttemptSender`, decoding is
:func:`~ayolinx_async._response.decode_response`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypedDict, TypeVar, Unpack, overload

import anyio
import attrs

from . import _log
from ._auth.fetcher import TokenFetcher
from ._auth.stores import TokenStore, token_store_key
from ._auth.token import AccessToken, RefreshPolicy, TokenCache
from ._config import Credentials, Environment, environment_from_env
from ._endpoints import TOKEN_PATH, PaymentProduct
from ._errors import ConfigurationError, OutcomeUnknownError
from ._hooks import USER_AGENT, AttemptSender, Hook, RequestEvent, ResponseEvent
from ._pipeline import CallOptions, ClientCore, get_token, send_call
from ._response import APIResponse, SuccessRule, default_success_rule
from ._retries import RetryPolicy, coerce_timeout
from ._telemetry import build_telemetry
from ._wire import BodyEncoding, new_external_id
from .signing._keys import load_private_key
from .signing._signers import LocalSigner, Signer
from .transport._base import Timeout, Transport

if TYPE_CHECKING:
    import httpx

    from ._gate import Gate
    from ._resources.ewallet import EwalletResource
    from ._resources.payment_link import PaymentLinksResource
    from ._resources.qris import QrisResource
    from ._resources.retail import RetailResource
    from ._resources.virtual_account import VirtualAccountsResource
    from .models._common import Channel, TransactionStatusResponse

__all__ = ["TOKEN_PATH", "AyolinxClient", "ClientOptions", "RequestEvent", "ResponseEvent"]


_R = TypeVar("_R")


class _Group(Generic[_R]):
    """A resource group (``client.qris`` …): created on first access, with its models imported
    then (``import ayolinx_async`` stays light), and kept on the client or view."""

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self._attribute = attribute

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type) -> _R: ...

    def __get__(self, instance: object | None, owner: type) -> _R | Self:
        if instance is None:
            return self
        module = importlib.import_module(f"._resources.{self._module}", __package__)
        group: _R = getattr(module, self._name)(instance)
        instance.__dict__[self._attribute] = group  # later lookups skip the descriptor
        return group


class ClientOptions(TypedDict, total=False):
    """The keyword options of :class:`AyolinxClient`, so ``from_env(**options)`` is typed too
    (a misspelt option such as ``timout=3`` is a type error, not a silent no-op)."""

    environment: Environment
    base_url: str | None
    transport: Transport | Literal["auto"] | None
    http_client: httpx.AsyncClient | None
    signer: Signer | None
    timeout: Timeout | float | None
    retry: RetryPolicy | None
    max_retries: int | None
    refresh_policy: RefreshPolicy | None
    token_store: TokenStore | None
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    external_id_factory: Callable[[], str]
    body_encoding: BodyEncoding
    success_rule: SuccessRule
    on_request: Hook | None
    on_response: Hook | None
    telemetry: bool | None
    tracer_provider: Any
    meter_provider: Any
    propagate_context: bool


class AyolinxClient:
    """Async client for the Ayolinx OpenAPI. Use as ``async with AyolinxClient(...) as client``.

    Construction does no network I/O. Keys are loaded (and checked) here, so a bad key fails
    before the first payment. ``telemetry=True`` (or ``AYOLINX_OTEL=1``; the ``[otel]`` extra)
    traces and measures every call with your ``tracer_provider``/``meter_provider`` (default:
    the global ones); ``propagate_context=True`` also sends W3C ``traceparent`` to Ayolinx.
    """

    _core: ClientCore
    _options: CallOptions

    def __init__(
        self,
        credentials: Credentials,
        *,
        environment: Environment = Environment.SANDBOX,
        base_url: str | None = None,
        transport: Transport | Literal["auto"] | None = None,
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
        telemetry: bool | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        propagate_context: bool = False,
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
        options_timeout = coerce_timeout(timeout)
        if transport is not None and http_client is not None:
            raise ConfigurationError("pass either transport= or http_client=, not both")
        owns = transport is None or transport == "auto"
        if transport is None or transport == "auto":
            transport = _own_transport(transport, http_client, options_timeout)
        if retry is None:
            retry = RetryPolicy()
        if max_retries is not None:
            retry = attrs.evolve(retry, max_retries=max_retries)
        tel = build_telemetry(
            telemetry,
            base_url=url,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            propagate_context=propagate_context,
        )
        sender = AttemptSender(
            transport=transport, base_url=url, on_request=on_request, on_response=on_response
        )
        core = ClientCore(
            credentials=credentials,
            sender=sender,
            base_url=url,
            transport=transport,
            owns_transport=owns,
            signer=signer,
            token_cache=TokenCache(
                TokenFetcher(
                    send=sender.send,
                    signer=signer,
                    client_key=credentials.client_key,
                    base_url=url,
                    clock=clock,
                    default_timeout=options_timeout,
                    success_rule=success_rule,
                ),
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
                "User-Agent": USER_AGENT,
            },
            telemetry=tel,
            gate=_gate_for(transport),
        )
        core.token_cache.telemetry = tel
        self._init(
            core,
            CallOptions(timeout=options_timeout, retry=retry),
        )

    def _init(self, core: ClientCore, options: CallOptions) -> None:
        self._core = core
        self._options = options
        self._is_view = False

    # -- the typed resource groups (created, and their models imported, on first use) ---------

    qris: _Group[QrisResource] = _Group("qris", "QrisResource")
    ewallet: _Group[EwalletResource] = _Group("ewallet", "EwalletResource")
    virtual_accounts: _Group[VirtualAccountsResource] = _Group(
        "virtual_account", "VirtualAccountsResource"
    )
    retail: _Group[RetailResource] = _Group("retail", "RetailResource")
    payment_links: _Group[PaymentLinksResource] = _Group("payment_link", "PaymentLinksResource")

    @classmethod
    def from_env(cls, **kwargs: Unpack[ClientOptions]) -> AyolinxClient:
        """Build a client from the ``AYOLINX_*`` environment variables (README, Configuration)."""
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
            options = attrs.evolve(options, timeout=coerce_timeout(timeout))
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

    async def __aexit__(self, *exc_info: object) -> None:
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
    def tracker(self) -> Any:
        """The payment tracker ``track=True`` uses (set by ``PaymentTracker(client, ...)``)."""
        return self._core.tracker

    @tracker.setter
    def tracker(self, value: Any) -> None:
        self._core.tracker = value

    @property
    def transport(self) -> Transport:
        return self._core.transport

    # -- tokens ------------------------------------------------------------------------------

    async def get_access_token(self) -> AccessToken:
        """The current B2B access token, fetched (single-flight) if missing or stale."""
        self._ensure_open()
        return await get_token(self._core, self._options)

    # -- calls -------------------------------------------------------------------------------

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
        return await self.post(
            path,
            body,
            money_moving=not idempotent,
            reference=reference,
            external_id=external_id,
            timeout=timeout,
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
        self._ensure_open()
        return await send_call(
            self._core,
            self._options,
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
        product: PaymentProduct | str | None = None,
        channel: Channel | str | None = None,
        timeout: Timeout | float | None = None,
    ) -> TransactionStatusResponse:
        """ "Did it happen?" in one call: query the status of the transaction behind an
        :class:`OutcomeUnknownError` (or a reference of ``product``) and return it typed."""
        from ._reconcile import reconcile  # the status queries load on first use

        return await reconcile(
            self, error_or_reference, product=product, channel=channel, timeout=timeout
        )

    def _ensure_open(self) -> None:
        if self._core.closed:
            raise ConfigurationError("this AyolinxClient is closed")


def _own_transport(
    choice: Literal["auto"] | None, http_client: httpx.AsyncClient | None, timeout: Timeout
) -> Transport:
    """The transport a client builds for itself; imported here, so ``import ayolinx_async``
    never pays for httpx (or aiohttp) before a client exists."""
    if choice == "auto":
        # aiohttp on asyncio when installed, else httpx (docs in transport/_auto.py).
        from .transport._auto import AutoTransport

        return AutoTransport(timeout=timeout)
    from .transport._httpx import HttpxTransport

    return HttpxTransport(http_client, timeout=timeout)


def _gate_for(transport: Transport) -> Gate | None:
    """The pipeline's gate, as wide as the transport's own (``max_in_flight``), so calls queue
    before they are signed rather than inside the transport."""
    from ._gate import Gate

    size = getattr(transport, "max_in_flight", None)
    return Gate(size) if isinstance(size, int) and size > 0 else None

"""The framework-agnostic callback endpoint: ``(method, path, headers, body) -> (status, headers,
body)``.

Every request is verified before its body is read, typed, deduplicated on
``originalReferenceNo + latestTransactionStatus`` and handed to the merchant's async listener(s).
The answer is always JSON with a SNAP code (spec §12.1): success acknowledges, a failing
listener gets a 500 so Ayolinx redelivers (and the dedupe key is released), a duplicate is
acknowledged without running the listener again (notes §8.5).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import anyio
import attrs

from .._log import logger as _root_logger
from ..config import Credentials
from ..errors import ConfigurationError
from ..signing import PublicKeySource
from .events import (
    CallbackEvent,
    NotificationKind,
    parse_notification,
    parse_va_payment,
)
from .stores import DEDUPE_DONE, DedupeStore, IssuedTokenStore, MemoryDedupeStore
from .token_issuer import DEFAULT_TOKEN_TTL, TokenIssuer
from .verify import (
    DEFAULT_TIMESTAMP_TOLERANCE,
    SERVICE_NOTIFY,
    SERVICE_TOKEN,
    SERVICE_VA_PAYMENT,
    CallbackRejected,
    CallbackVerifier,
    Headers,
    HeaderSource,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_NOTIFY_PATH",
    "TOKEN_ROUTE_PATH",
    "VA_PAYMENT_ROUTE_PATH",
    "CallbackHandler",
    "CallbackResponse",
    "EventListener",
    "NotifyRoute",
    "Route",
    "TokenRoute",
    "VaPaymentRoute",
]

_logger = _root_logger.getChild("callbacks")

DEFAULT_NOTIFY_PATH = "/ayolinx/notify"
TOKEN_ROUTE_PATH = "/v1.0/access-token/b2b"
VA_PAYMENT_ROUTE_PATH = "/v1.0/transfer-va/payment"
#: Real notify bodies are well under 4 KiB; 64 KiB leaves room and bounds memory per request.
DEFAULT_MAX_BODY_SIZE = 64 * 1024

EventListener = Callable[[CallbackEvent], Awaitable[object]]

_JSON_HEADERS: Mapping[str, str] = {"content-type": "application/json"}


def _check_path(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or any(c in value for c in "?# \t\r\n")
    ):
        raise ConfigurationError(
            f"{attribute.name} must be a URL path starting with '/' without query or spaces"
        )


@attrs.frozen(kw_only=True, slots=True)
class NotifyRoute:
    """A non-SNAP "Payment Notify" endpoint (QRIS, e-wallet, VA, retail, payment link).

    ``signed_path``: the path Ayolinx signed, if it differs from the path the request arrives on
    (a proxy that rewrites paths); defaults to the request's own path. ``kind`` forces the
    event class when one URL serves one product; otherwise it is read from the body.
    """

    service_code: ClassVar[str] = SERVICE_NOTIFY

    path: str = attrs.field(default=DEFAULT_NOTIFY_PATH, validator=_check_path)
    signed_path: str | None = attrs.field(default=None, validator=_check_path)
    kind: NotificationKind | None = None


@attrs.frozen(kw_only=True, slots=True)
class TokenRoute:
    """The merchant's access-token endpoint that Ayolinx calls before a SNAP VA payment."""

    service_code: ClassVar[str] = SERVICE_TOKEN

    path: str = attrs.field(default=TOKEN_ROUTE_PATH, validator=_check_path)

    @property
    def signed_path(self) -> None:
        return None


@attrs.frozen(kw_only=True, slots=True)
class VaPaymentRoute:
    """The SNAP VA ``Payment`` endpoint (Bearer token + HMAC). ``signed_path`` as above."""

    service_code: ClassVar[str] = SERVICE_VA_PAYMENT

    path: str = attrs.field(default=VA_PAYMENT_ROUTE_PATH, validator=_check_path)
    signed_path: str | None = attrs.field(default=None, validator=_check_path)


Route = NotifyRoute | TokenRoute | VaPaymentRoute


class CallbackResponse(NamedTuple):
    """What to answer: unpacks as ``status, headers, body`` (body is JSON bytes)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        # The token endpoint's answer carries the merchant-issued token: never shown.
        return f"CallbackResponse(status={self.status}, body=<{len(self.body)} bytes>)"


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_response(status: int, payload: Mapping[str, Any]) -> CallbackResponse:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return CallbackResponse(status, _JSON_HEADERS, body.encode("utf-8"))


def _error(status: int, code: str, message: str) -> CallbackResponse:
    return _json_response(status, {"responseCode": code, "responseMessage": message})


_NOTIFY_ACK = _error(200, "2005600", "Successful")


class _ListenerFailed(Exception):
    """A merchant listener raised; the delivery must be retried by Ayolinx."""


class CallbackHandler:
    """Receives everything Ayolinx sends to the merchant; see the module docstring.

    ``on_event``: one async callable or a sequence of them, awaited in order with each verified
    :data:`CallbackEvent`; if any raises, Ayolinx gets a 500 and will redeliver.
    ``routes``: the endpoints served (default: notify at ``/ayolinx/notify``, the token endpoint
    and the SNAP VA payment endpoint at their documented paths).
    ``clock`` returns epoch seconds and drives timestamp checks, token expiry and the memory
    stores. Stores default to in-memory (one process); pass shared ones for several workers.
    """

    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        ayolinx_public_keys: PublicKeySource | Sequence[PublicKeySource],
        on_event: EventListener | Sequence[EventListener],
        routes: Sequence[Route] | None = None,
        timestamp_tolerance: float = DEFAULT_TIMESTAMP_TOLERANCE,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        va_hmac_algorithms: Sequence[str] = ("sha512",),
        require_grant_type: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        dedupe_ttl: float = 24 * 3600.0,
        processing_lease: float = 300.0,
        token_store: IssuedTokenStore | None = None,
        dedupe_store: DedupeStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(client_key, str) or not client_key.strip():
            raise ConfigurationError("client_key must be a non-empty string")
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigurationError("client_secret must be a non-empty string")
        listeners = (on_event,) if callable(on_event) else tuple(on_event)
        if not listeners or not all(callable(fn) for fn in listeners):
            raise ConfigurationError("on_event must be an async callable or a sequence of them")
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
            raise ConfigurationError("max_body_size must be an int (bytes)")
        if max_body_size < 1024:
            raise ConfigurationError("max_body_size must be at least 1024 bytes")
        if not dedupe_ttl > 0 or not processing_lease > 0:
            raise ConfigurationError("dedupe_ttl and processing_lease must be positive seconds")
        chosen = (
            tuple(routes) if routes is not None else (NotifyRoute(), TokenRoute(), VaPaymentRoute())
        )
        table: dict[str, Route] = {}
        for route in chosen:
            if not isinstance(route, NotifyRoute | TokenRoute | VaPaymentRoute):
                raise ConfigurationError(f"not a callback route: {route!r}")
            if route.path in table:
                raise ConfigurationError(f"two callback routes share the path {route.path!r}")
            table[route.path] = route
        if not table:
            raise ConfigurationError("at least one callback route is required")
        self._client_key = client_key
        self._listeners: tuple[EventListener, ...] = listeners
        self._routes = table
        self._max_body = max_body_size
        self._dedupe_ttl = float(dedupe_ttl)
        self._lease = float(processing_lease)
        self._dedupe: DedupeStore = dedupe_store or MemoryDedupeStore(clock=clock)
        self._verifier = CallbackVerifier(
            ayolinx_public_keys,
            client_secret=client_secret,
            hmac_algorithms=va_hmac_algorithms,
            tolerance=timestamp_tolerance,
            clock=clock,
        )
        self._issuer = TokenIssuer(
            client_key=client_key,
            verifier=self._verifier,
            store=token_store,
            ttl=token_ttl,
            clock=clock,
            require_grant_type=require_grant_type,
        )

    @classmethod
    def from_credentials(
        cls,
        credentials: Credentials,
        *,
        on_event: EventListener | Sequence[EventListener],
        **options: Any,
    ) -> CallbackHandler:
        """Build from :class:`~ayolinx_async.Credentials` (its ``ayolinx_public_key`` is
        required); ``options`` are the other constructor arguments."""
        if credentials.ayolinx_public_key is None:
            raise ConfigurationError("credentials.ayolinx_public_key is required for callbacks")
        return cls(
            client_key=credentials.client_key,
            client_secret=credentials.client_secret,
            ayolinx_public_keys=credentials.ayolinx_public_key,
            on_event=on_event,
            **options,
        )

    @classmethod
    def from_env(
        cls,
        *,
        on_event: EventListener | Sequence[EventListener],
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> CallbackHandler:
        """Build from ``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PUBLIC_KEY``
        (PEM, may hold several keys) or ``AYOLINX_PUBLIC_KEY_FILE``, and optionally
        ``AYOLINX_CALLBACK_PATH`` (the notify path, unless ``routes=`` is given)."""
        env = os.environ if environ is None else environ
        missing = [n for n in ("AYOLINX_CLIENT_KEY", "AYOLINX_CLIENT_SECRET") if not env.get(n)]
        pub_text, pub_file = env.get("AYOLINX_PUBLIC_KEY"), env.get("AYOLINX_PUBLIC_KEY_FILE")
        if not pub_text and not pub_file:
            missing.append("AYOLINX_PUBLIC_KEY or AYOLINX_PUBLIC_KEY_FILE")
        if missing:
            raise ConfigurationError("missing environment variables: " + ", ".join(missing))
        if pub_text:
            keys: PublicKeySource = pub_text
        else:
            try:
                keys = Path(str(pub_file)).expanduser().read_bytes()
            except OSError as exc:
                raise ConfigurationError(
                    f"AYOLINX_PUBLIC_KEY_FILE: cannot read {pub_file!r} ({exc.strerror})"
                ) from None
        notify_path = env.get("AYOLINX_CALLBACK_PATH")
        if notify_path and "routes" not in options:
            options["routes"] = (NotifyRoute(path=notify_path), TokenRoute(), VaPaymentRoute())
        return cls(
            client_key=env["AYOLINX_CLIENT_KEY"],
            client_secret=env["AYOLINX_CLIENT_SECRET"],
            ayolinx_public_keys=keys,
            on_event=on_event,
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"<CallbackHandler routes={sorted(self._routes)} listeners={len(self._listeners)}"
            f" tolerance={self._verifier.tolerance:g}s>"
        )

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes.values())

    @property
    def max_body_size(self) -> int:
        """Bodies larger than this are refused with 413 (integrations stop reading early)."""
        return self._max_body

    @property
    def verifier(self) -> CallbackVerifier:
        return self._verifier

    @property
    def token_issuer(self) -> TokenIssuer:
        return self._issuer

    @property
    def dedupe_store(self) -> DedupeStore:
        return self._dedupe

    def route_for(self, path: str) -> Route | None:
        """The route serving ``path`` (query string ignored), or ``None``."""
        return self._routes.get(path.partition("?")[0])

    def payload_too_large(self, route: Route | None = None) -> CallbackResponse:
        """The 413 answer, for integrations that stop reading an oversized body early."""
        service = route.service_code if route is not None else "00"
        return _error(413, f"413{service}00", "Payload Too Large")

    async def __call__(
        self, method: str, path: str, headers: HeaderSource, body: bytes
    ) -> CallbackResponse:
        return await self.handle(method, path, headers, body)

    async def handle(
        self,
        method: str,
        path: str,
        headers: HeaderSource | Headers,
        body: bytes,
        *,
        route: Route | None = None,
    ) -> CallbackResponse:
        """Verify, dispatch and answer one request. Never raises (except on cancellation).

        ``path`` is the URL path Ayolinx called (the query string is ignored); ``route`` skips
        the lookup by path (framework routers that mount under a prefix pass it).
        """
        request_path = path.partition("?")[0]
        if route is None:
            route = self._routes.get(request_path)
            if route is None:
                return _error(404, "4040002", "Invalid Routing")
        service = route.service_code
        if method.upper() != "POST":
            status, resp_headers, resp_body = _error(
                405, f"405{service}00", "Requested Function Is Not Supported"
            )
            return CallbackResponse(status, {**resp_headers, "allow": "POST"}, resp_body)
        if len(body) > self._max_body:
            return self.payload_too_large(route)
        try:
            view = Headers(headers)
            signed_path = route.signed_path or request_path
            if isinstance(route, TokenRoute):
                return _json_response(200, await self._issuer.issue(view, body))
            if isinstance(route, NotifyRoute):
                timestamp = self._verifier.verify_notification(
                    path=signed_path, headers=view, body=body
                )
                event = parse_notification(
                    body, path=request_path, timestamp=timestamp, kind=route.kind
                )
                await self._deliver(event)
                return _NOTIFY_ACK
            return await self._va_payment(view, body, request_path, signed_path)
        except CallbackRejected as exc:
            code = exc.response_code(service)
            _logger.info("callback rejected on %s: %s (%s)", request_path, exc.reason, code)
            return _error(exc.http_status, code, exc.message)
        except _ListenerFailed:
            return _error(500, f"500{service}01", "Internal Server Error")
        except Exception:
            _logger.exception("unexpected error while handling a callback on %s", request_path)
            return _error(500, f"500{service}01", "Internal Server Error")

    async def _va_payment(
        self, view: Headers, body: bytes, request_path: str, signed_path: str
    ) -> CallbackResponse:
        sent = view.values("Authorization")
        if len(sent) > 1:
            raise CallbackRejected(
                400, "01", "Invalid Field Format Authorization", reason="duplicate_header"
            )
        token = await self._issuer.validate(sent[0] if sent else None)
        partner_id = view.get("X-PARTNER-ID")
        if partner_id is not None and not hmac.compare_digest(
            partner_id.encode("utf-8"), self._client_key.encode("utf-8")
        ):
            raise CallbackRejected(401, "00", "Unauthorized. Unknown client", reason="bad_partner")
        timestamp = self._verifier.verify_service_signature(
            path=signed_path, access_token=token, headers=view, body=body
        )
        event = parse_va_payment(
            body,
            path=request_path,
            timestamp=timestamp,
            external_id=view.get("X-EXTERNAL-ID"),
            partner_id=partner_id,
        )
        await self._deliver(event)
        return _json_response(
            200,
            {
                "responseCode": "2002500",
                "responseMessage": "Successful",
                "virtualAccountData": event.virtual_account_data(),
            },
        )

    async def _deliver(self, event: CallbackEvent) -> bool:
        """Run the listeners once per dedupe key; False for an acknowledged duplicate.

        A key held by another delivery that is still running answers 409, not 200: if that
        delivery fails, Ayolinx must still have a retry pending.
        """
        key = event.dedupe_key
        owner = secrets.token_hex(16)
        if not await self._dedupe.claim(key, owner, self._lease):
            if await self._dedupe.get(key) == DEDUPE_DONE:
                _logger.info("duplicate callback %s acknowledged", key)
                return False
            raise CallbackRejected(
                409, "00", "Conflict. The same callback is being processed", reason="in_progress"
            )
        try:
            await self._run_listeners(event, key, owner)
        except Exception:
            _logger.exception(
                "callback listener failed for %s %s; answering 500 so Ayolinx retries",
                type(event).__name__,
                key,
            )
            with anyio.CancelScope(shield=True):
                await self._dedupe.release(key, owner)
            raise _ListenerFailed from None
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._dedupe.release(key, owner)
            raise
        try:
            await self._dedupe.complete(key, self._dedupe_ttl)
        except Exception as exc:
            # The listeners succeeded: acknowledge. The processing lease still blocks
            # duplicates; answering 500 would only make Ayolinx re-run finished work.
            _logger.warning(
                "could not mark callback %s as done (%s); acknowledging anyway",
                key,
                type(exc).__name__,
            )
        return True

    async def _run_listeners(self, event: CallbackEvent, key: str, owner: str) -> None:
        """Run the listeners while a background task renews the processing lease, so a slow
        listener keeps its claim and a redelivery gets 409 instead of running it twice."""
        failure: Exception | None = None
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._keep_lease, key, owner)
            try:
                for listener in self._listeners:
                    await listener(event)
            except Exception as exc:
                failure = exc
            tasks.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _keep_lease(self, key: str, owner: str) -> None:
        """Renew the claim every third of the lease until cancelled; never raises."""
        while True:
            await anyio.sleep(self._lease / 3)
            try:
                if not await self._dedupe.extend(key, owner, self._lease):
                    _logger.warning("lost the processing lease of callback %s", key)
                    return
            except Exception as exc:
                _logger.warning(
                    "could not renew the processing lease of %s (%s)", key, type(exc).__name__
                )

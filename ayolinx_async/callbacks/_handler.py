"""The framework-agnostic callback endpoint: ``(method, path, headers, body) -> (status, headers,
body)``.

Every request is verified before its body is read, typed, deduplicated on
``originalReferenceNo + latestTransactionStatus`` and handed to the merchant's async listener(s).
The answer is always strict JSON with a SNAP code (spec §12.1), built before any listener runs:
success acknowledges, a failing listener gets a 500 and a listener that overran
``listener_timeout`` is cancelled and gets a 504, so Ayolinx redelivers (and the dedupe key is
released); a duplicate is acknowledged without running the listener again (notes §8.5). With
``confirm_with=client`` a paid or final status reaches listeners only once the merchant's own
authenticated status query agrees with it.
"""

from __future__ import annotations

import hmac
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._config import Credentials
from .._errors import CallbackRejected, ConfigurationError
from .._log import logger as _root_logger
from .._secret import Secret
from .._telemetry import build_telemetry
from ..signing import PublicKeySource
from ._answers import NOTIFY_ACK, CallbackResponse, error_response, json_response, va_answer
from ._confirm import ConfirmFailed
from ._dispatch import Dispatcher, EventListener, ListenerFailed, ListenerTimedOut
from ._environment import read_environment
from ._events import CallbackEvent, parse_notification, parse_va_payment
from ._routes import NotifyRoute, Route, TokenRoute, VaPaymentRoute, route_table
from ._stores import (
    DedupeStore,
    IssuedTokenStore,
    MemoryDedupeStore,
    NamespacedDedupeStore,
    namespace_for,
)
from ._token_issuer import DEFAULT_TOKEN_TTL, TokenIssuer
from ._verify import DEFAULT_TIMESTAMP_TOLERANCE, CallbackVerifier, Headers, HeaderSource

if TYPE_CHECKING:
    from .._client import AyolinxClient
    from .._telemetry import CallbackTrace

__all__ = [
    "DEFAULT_CONFIRM_TIMEOUT",
    "DEFAULT_LISTENER_TIMEOUT",
    "DEFAULT_MAX_BODY_SIZE",
    "CallbackHandler",
    "EventListener",
]

_logger = _root_logger.getChild("callbacks")

#: Real notify bodies are well under 4 KiB; 64 KiB leaves room and bounds memory per request.
DEFAULT_MAX_BODY_SIZE = 64 * 1024
#: Seconds the listeners of one delivery may run before they are cancelled and Ayolinx is told
#: to retry. Ayolinx publishes no HTTP timeout for callbacks, only the retry schedule (1, 5, 10,
#: 60 min, spec §12.1): 20 s frees a hung delivery's claim well before the first redelivery at
#: 1 min, while leaving a slow database room (the embedded simulator gives up after 10 s).
DEFAULT_LISTENER_TIMEOUT = 20.0
#: Seconds the ``confirm_with`` status query may take before the delivery is answered 503.
DEFAULT_CONFIRM_TIMEOUT = 10.0


class CallbackFeed(Protocol):
    """What ``tracker=`` takes: anything with an async ``feed(event)`` (a ``PaymentTracker``)."""

    async def feed(self, event: CallbackEvent) -> object: ...


class CallbackHandler:
    """Receives everything Ayolinx sends to the merchant; see the module docstring.

    ``on_event``: one async callable or a sequence of them, awaited in order with each verified
    :data:`CallbackEvent`; if any raises, Ayolinx gets a 500 and will redeliver. ``tracker``: a
    ``tracking.PaymentTracker`` fed every verified event first (its ``feed``).
    ``routes``: the endpoints served (default: notify at ``/ayolinx/notify``, the token endpoint
    and the SNAP VA payment endpoint at their documented paths).
    ``clock`` returns epoch seconds and drives timestamp checks, token expiry and the memory
    stores. Stores default to in-memory (one process); pass shared ones for several workers.
    ``listener_timeout``: seconds the listeners of one delivery may run (default
    :data:`DEFAULT_LISTENER_TIMEOUT`, 20 s; ``None`` for no bound); on expiry they are
    cancelled, the claim is released and Ayolinx gets a 504, so its redelivery runs them again.
    ``confirm_with``: an :class:`~ayolinx_async.AyolinxClient` under the merchant's own
    credentials; a paid or final status then reaches listeners only once the product's status
    query (by your reference and channel) agrees on status, reference and amount, with the event
    marked ``confirmed=True``. A contradicted callback is refused (404/409, listeners not
    called); a failing query is a 503 so Ayolinx retries. Events no status query answers for
    (payment links, unknown products, no channel for VA/retail) arrive with ``confirmed=False``.
    ``confirm_timeout`` bounds that query. ``namespace``: prefix of every dedupe and token key
    (default: a digest of ``client_key``, so merchants sharing one store never collide; ``""``
    for the unprefixed keys of 0.1). ``telemetry=True`` (or ``AYOLINX_OTEL=1``) gives each
    request a server span and the callback metrics, on ``tracer_provider``/``meter_provider``.
    """

    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        ayolinx_public_keys: PublicKeySource | Sequence[PublicKeySource],
        on_event: EventListener | Sequence[EventListener] = (),
        tracker: CallbackFeed | None = None,
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
        listener_timeout: float | None = DEFAULT_LISTENER_TIMEOUT,
        confirm_with: AyolinxClient | None = None,
        confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT,
        namespace: str | None = None,
        telemetry: bool | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
    ) -> None:
        if not isinstance(client_key, str) or not client_key.strip():
            raise ConfigurationError("client_key must be a non-empty string")
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigurationError("client_secret must be a non-empty string")
        client_secret = Secret(client_secret)  # frame locals of a later error show no secret
        listeners = (on_event,) if callable(on_event) else tuple(on_event)
        if tracker is not None:
            # First, so the outcome is recorded before anything else; if it cannot be (the
            # tracker's store is down) the callback is answered 500 and Ayolinx redelivers.
            listeners = (tracker.feed, *listeners)
        if not listeners or not all(callable(fn) for fn in listeners):
            raise ConfigurationError(
                "on_event must be an async callable or a sequence of them (or pass tracker=)"
            )
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
            raise ConfigurationError("max_body_size must be an int (bytes)")
        if max_body_size < 1024:
            raise ConfigurationError("max_body_size must be at least 1024 bytes")
        if not dedupe_ttl > 0 or not processing_lease > 0:
            raise ConfigurationError("dedupe_ttl and processing_lease must be positive seconds")
        if listener_timeout is not None and not (
            isinstance(listener_timeout, int | float)
            and math.isfinite(listener_timeout)
            and listener_timeout > 0
        ):
            raise ConfigurationError("listener_timeout must be positive seconds or None")
        if not (isinstance(confirm_timeout, int | float) and 0 < confirm_timeout < math.inf):
            raise ConfigurationError("confirm_timeout must be positive seconds")
        if namespace is not None and not isinstance(namespace, str):
            raise ConfigurationError("namespace must be a string")
        if confirm_with is not None and not hasattr(confirm_with, "qris"):
            raise ConfigurationError("confirm_with must be an AyolinxClient")
        table = route_table(routes)
        self._telemetry = build_telemetry(
            telemetry, tracer_provider=tracer_provider, meter_provider=meter_provider
        )
        self._client_key = client_key
        self._listeners: tuple[EventListener, ...] = listeners
        self._routes = table
        self._max_body = max_body_size
        self._namespace = namespace_for(client_key) if namespace is None else namespace
        self._dedupe = NamespacedDedupeStore(
            dedupe_store if dedupe_store is not None else MemoryDedupeStore(clock=clock),
            self._namespace,
        )
        self._listener_timeout = math.inf if listener_timeout is None else float(listener_timeout)
        self._confirm_with = confirm_with
        self._dispatcher = Dispatcher(
            listeners=listeners,
            dedupe=self._dedupe,
            dedupe_ttl=float(dedupe_ttl),
            lease=float(processing_lease),
            listener_timeout=self._listener_timeout,
            confirm_with=confirm_with,
            confirm_timeout=float(confirm_timeout),
        )
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
            namespace=self._namespace,
        )

    @classmethod
    def from_credentials(
        cls,
        credentials: Credentials,
        *,
        on_event: EventListener | Sequence[EventListener] = (),
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
        on_event: EventListener | Sequence[EventListener] = (),
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> CallbackHandler:
        """Build from ``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PUBLIC_KEY``
        (PEM, may hold several keys) or ``AYOLINX_PUBLIC_KEY_FILE``, and optionally
        ``AYOLINX_CALLBACK_PATH`` (the notify path, unless ``routes=`` is given)."""
        found = read_environment(os.environ if environ is None else environ)
        if found.notify_path and "routes" not in options:
            options["routes"] = (
                NotifyRoute(path=found.notify_path),
                TokenRoute(),
                VaPaymentRoute(),
            )
        return cls(
            client_key=found.client_key,
            client_secret=found.client_secret,
            ayolinx_public_keys=found.public_keys,
            on_event=on_event,
            **options,
        )

    def __repr__(self) -> str:
        if not hasattr(self, "_issuer"):  # a constructor that raised (crash reports show it)
            return "<CallbackHandler (not configured)>"
        # Paths stay out: a secret notify path is a credential of sorts.
        return (
            f"<CallbackHandler routes={len(self._routes)} listeners={len(self._listeners)}"
            f" tolerance={self._verifier.tolerance:g}s namespace={self._namespace!r}"
            f" confirm={'on' if self._confirm_with is not None else 'off'}>"
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
    def dedupe_store(self) -> NamespacedDedupeStore:
        """The handler's view of its dedupe store: keys as the handler sees them, written to
        the store under ``<namespace>:``."""
        return self._dedupe

    @property
    def namespace(self) -> str:
        """The prefix of this handler's dedupe and token keys (see ``namespace=``)."""
        return self._namespace

    @property
    def listener_timeout(self) -> float | None:
        return None if math.isinf(self._listener_timeout) else self._listener_timeout

    def route_for(self, path: str) -> Route | None:
        """The route serving ``path`` (query string ignored), or ``None``."""
        return self._routes.get(path.partition("?")[0])

    def payload_too_large(self, route: Route | None = None) -> CallbackResponse:
        """The 413 answer, for integrations that stop reading an oversized body early."""
        service = route.service_code if route is not None else "00"
        return error_response(413, f"413{service}00", "Payload Too Large")

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
        view = headers if type(headers) is Headers else Headers(headers)
        headers = view  # the raw pairs hold the Bearer token: not kept in this frame
        tel = self._telemetry
        if tel is None:
            return await self._handle(method, path, view, body, route, None)
        with tel.callback(method) as trace:
            answer = await self._handle(method, path, view, body, route, trace)
            trace.answered(answer.status)
            return answer

    def _answer(
        self, method: str, path: str, view: Headers, body: bytes, route: Route | None
    ) -> Awaitable[CallbackResponse]:
        """What :meth:`handle` awaits, for an integration that built the ``view`` itself: with
        telemetry off, the request's own coroutine, so it awaits one coroutine, not two (issue
        15)."""
        if self._telemetry is None:
            return self._handle(method, path, view, body, route, None)
        return self.handle(method, path, view, body, route=route)

    async def _handle(
        self,
        method: str,
        path: str,
        view: Headers,
        body: bytes,
        route: Route | None,
        trace: CallbackTrace | None,
    ) -> CallbackResponse:
        request_path = path.partition("?")[0]
        if route is None:
            route = self._routes.get(request_path)
            if route is None:
                return error_response(404, "4040002", "Invalid Routing")
        if trace is not None:
            trace.routed(_ROUTE_NAMES.get(type(route), "custom"))
        service = route.service_code
        if method != "POST" and method.upper() != "POST":
            status, resp_headers, resp_body = error_response(
                405, f"405{service}00", "Requested Function Is Not Supported"
            )
            return CallbackResponse(status, {**resp_headers, "allow": "POST"}, resp_body)
        if len(body) > self._max_body:
            return self.payload_too_large(route)
        try:
            if isinstance(route, NotifyRoute):  # first: nearly every callback is a notify
                timestamp = self._verifier.verify_notification(
                    path=route.signed_path or request_path, headers=view, body=body
                )
                if trace is not None:
                    trace.verified()
                event = parse_notification(
                    body, path=request_path, timestamp=timestamp, kind=route.kind
                )
                if trace is not None:
                    trace.event(type(event).__name__)
                await self._dispatcher.deliver(event, trace)
                return NOTIFY_ACK
            if isinstance(route, TokenRoute):
                issued = await self._issuer.issue(view, body)
                if trace is not None:
                    trace.verified()
                return json_response(200, issued)
            signed_path = route.signed_path or request_path
            return await self._va_payment(view, body, request_path, signed_path, trace)
        except CallbackRejected as exc:
            if trace is not None:
                trace.rejected(exc.reason)
            code = exc.response_code(service)
            _logger.info("callback rejected (service %s): %s (%s)", service, exc.reason, code)
            return error_response(exc.http_status, code, exc.message)
        except ListenerFailed:
            return error_response(500, f"500{service}01", "Internal Server Error")
        except ListenerTimedOut:
            return error_response(504, f"504{service}00", "Timeout")
        except ConfirmFailed:
            return error_response(
                503, f"503{service}00", "Service Unavailable. Status not confirmed"
            )
        except Exception:
            _logger.exception("unexpected error while handling a callback (service %s)", service)
            return error_response(500, f"500{service}01", "Internal Server Error")

    async def _va_payment(
        self,
        view: Headers,
        body: bytes,
        request_path: str,
        signed_path: str,
        trace: CallbackTrace | None,
    ) -> CallbackResponse:
        authorization = _one_authorization(view)
        token = await self._issuer.validate(authorization)
        partner_id = view.get("X-PARTNER-ID")
        if partner_id is not None and not hmac.compare_digest(
            partner_id.encode("utf-8"), self._client_key.encode("utf-8")
        ):
            raise CallbackRejected(401, "00", "Unauthorized. Unknown client", reason="bad_partner")
        timestamp = self._verifier.verify_service_signature(
            path=signed_path, access_token=token, headers=view, body=body
        )
        if trace is not None:
            trace.verified()
        event = parse_va_payment(
            body,
            path=request_path,
            timestamp=timestamp,
            external_id=view.get("X-EXTERNAL-ID"),
            partner_id=partner_id,
        )
        if trace is not None:
            trace.event(type(event).__name__)
        answer = va_answer(event)
        await self._dispatcher.deliver(event, trace)
        return answer


#: Route names for spans and metric labels: never the path (a secret notify path is a
#: credential of sorts).
_ROUTE_NAMES: dict[type, str] = {
    NotifyRoute: "notify",
    TokenRoute: "token",
    VaPaymentRoute: "va_payment",
}


def _one_authorization(view: Headers) -> Secret | None:
    """The single ``Authorization`` value as a :class:`Secret`; 400 if it was sent twice."""
    sent = tuple(Secret(value) for value in view.values("Authorization"))
    if len(sent) > 1:
        raise CallbackRejected(
            400, "01", "Invalid Field Format Authorization", reason="duplicate_header"
        )
    return sent[0] if sent else None

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

import asyncio
import hmac
import json
import math
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import anyio
import attrs

from .._config import Credentials
from .._errors import ConfigurationError, NotFoundError, ValidationError
from .._log import logger as _root_logger
from .._secret import Secret
from ..models._common import Amount, Channel, TransactionStatus
from ..signing import PublicKeySource
from ._events import (
    CallbackEvent,
    EwalletNotification,
    NotificationKind,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
    parse_notification,
    parse_va_payment,
)
from ._stores import (
    DEDUPE_DONE,
    DedupeStore,
    IssuedTokenStore,
    MemoryDedupeStore,
    NamespacedDedupeStore,
    namespace_for,
)
from ._token_issuer import DEFAULT_TOKEN_TTL, TokenIssuer
from ._verify import (
    DEFAULT_TIMESTAMP_TOLERANCE,
    SERVICE_NOTIFY,
    SERVICE_TOKEN,
    SERVICE_VA_PAYMENT,
    CallbackRejected,
    CallbackVerifier,
    Headers,
    HeaderSource,
)

if TYPE_CHECKING:
    from .._client import AyolinxClient
    from ..models._common import TransactionStatusResponse

__all__ = [
    "DEFAULT_CONFIRM_TIMEOUT",
    "DEFAULT_LISTENER_TIMEOUT",
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
    "secret_notify_path",
]

_logger = _root_logger.getChild("callbacks")

DEFAULT_NOTIFY_PATH = "/ayolinx/notify"
TOKEN_ROUTE_PATH = "/v1.0/access-token/b2b"
VA_PAYMENT_ROUTE_PATH = "/v1.0/transfer-va/payment"
#: Real notify bodies are well under 4 KiB; 64 KiB leaves room and bounds memory per request.
DEFAULT_MAX_BODY_SIZE = 64 * 1024
#: Seconds the listeners of one delivery may run before they are cancelled and Ayolinx is told
#: to retry. Ayolinx publishes no HTTP timeout for callbacks, only the retry schedule (1, 5, 10,
#: 60 min, spec §12.1): 20 s frees a hung delivery's claim well before the first redelivery at
#: 1 min, while leaving a slow database room (the embedded simulator gives up after 10 s).
DEFAULT_LISTENER_TIMEOUT = 20.0
#: Seconds the ``confirm_with`` status query may take before the delivery is answered 503.
DEFAULT_CONFIRM_TIMEOUT = 10.0

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


#: Integral Decimals up to this many digits are echoed as JSON integers (``11500.00`` as
#: ``11500``, as before); anything larger would be a number no payment carries.
_MAX_ECHO_DIGITS = 30


def _json_default(value: object) -> object:
    """JSON for the Decimals of a decoded body; NaN, infinities and absurd exponents refused."""
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > _MAX_ECHO_DIGITS:
            raise ValueError("not a finite JSON number")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_bytes(payload: Mapping[str, Any]) -> bytes:
    """Strict JSON as UTF-8: ``ValueError`` for NaN/Infinity or a lone surrogate, never a body
    a strict parser would refuse."""
    text = json.dumps(
        payload,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    return text.encode("utf-8")


def _json_response(status: int, payload: Mapping[str, Any]) -> CallbackResponse:
    return CallbackResponse(status, _JSON_HEADERS, _json_bytes(payload))


def _error(status: int, code: str, message: str) -> CallbackResponse:
    return _json_response(status, {"responseCode": code, "responseMessage": message})


_NOTIFY_ACK = _error(200, "2005600", "Successful")


def _va_answer(event: VaPaymentRequest) -> CallbackResponse:
    """The ``2002500`` answer with the ``virtualAccountData`` echo, built (and so validated)
    before any listener runs: a body that cannot be echoed as strict JSON is a 400, never a
    listener run followed by an invalid or failing answer."""
    payload = {
        "responseCode": "2002500",
        "responseMessage": "Successful",
        "virtualAccountData": event.virtual_account_data(),
    }
    try:
        return _json_response(200, payload)
    except (ValueError, TypeError, RecursionError):
        raise CallbackRejected(
            400, "01", "Invalid Field Format virtualAccountData", reason="bad_body"
        ) from None


def secret_notify_path(prefix: str = DEFAULT_NOTIFY_PATH) -> str:
    """A fresh unguessable notify path, ``<prefix>/<22 random characters>``.

    Generate it once, keep it in your configuration (``AYOLINX_CALLBACK_PATH``) and register it
    with Ayolinx; only Ayolinx then knows where to post, so another merchant holding a genuinely
    signed callback of its own cannot find your endpoint.
    """
    if not prefix.startswith("/") or any(c in prefix for c in "?# \t\r\n"):
        raise ConfigurationError("prefix must be a URL path starting with '/'")
    return f"{prefix.rstrip('/')}/{secrets.token_urlsafe(16)}"


class _ListenerFailed(Exception):
    """A merchant listener raised; the delivery must be retried by Ayolinx."""


class _ListenerTimedOut(Exception):
    """The listeners overran ``listener_timeout`` and were cancelled; Ayolinx must retry."""


class _ConfirmFailed(Exception):
    """The confirming status query failed (transport, 5xx, timeout); Ayolinx must retry."""


def _spawn_background(func: Callable[[], Coroutine[Any, Any, None]]) -> object:
    """Start ``func`` outside any request on the running event loop; return the loop's identity.

    asyncio: a loop task (kept referenced until done); trio: a system task, cancelled when the
    run ends. One such task per handler and loop replaces a task group per delivery (issue 15).
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import trio

        trio.lowlevel.spawn_system_task(func)
        return trio.lowlevel.current_trio_token()
    task = loop.create_task(func())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return loop


def _current_loop() -> object:
    """The identity :func:`_spawn_background` returns for the running loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        import trio

        return trio.lowlevel.current_trio_token()


_BACKGROUND: set[asyncio.Task[None]] = set()


class _LeaseKeeper:
    """Renews the processing leases of deliveries that run longer than a third of the lease.

    Deliveries register (a dict entry, no task); one timer per event loop wakes every third of
    the lease, renews the leases that are due and stops once nothing is registered. A lease is
    thus renewed at most two thirds of a lease after it was last set.
    """

    __slots__ = ("_lease", "_running", "_store", "_timer_loop")

    def __init__(self, store: DedupeStore, lease: float) -> None:
        self._store = store
        self._lease = lease
        self._running: dict[str, tuple[str, float]] = {}  # owner -> (key, renew at)
        self._timer_loop: object | None = None

    def track(self, key: str, owner: str) -> None:
        self._running[owner] = (key, anyio.current_time() + self._lease / 3)
        if self._timer_loop is not _current_loop():
            self._timer_loop = _spawn_background(self._tick)

    def untrack(self, owner: str) -> None:
        self._running.pop(owner, None)

    async def _tick(self) -> None:
        try:
            while self._running:
                await anyio.sleep(self._lease / 3)
                now = anyio.current_time()
                due = [(o, k) for o, (k, at) in self._running.items() if at <= now]
                for owner, key in due:
                    await self._renew(key, owner)
                    if owner in self._running:
                        self._running[owner] = (key, now + self._lease / 3)
        finally:
            self._timer_loop = None

    async def _renew(self, key: str, owner: str) -> None:
        """One renewal; never raises (a lost or failing renewal is logged)."""
        try:
            if not await self._store.extend(key, owner, self._lease):
                _logger.warning("lost the processing lease of callback %s", key)
                self._running.pop(owner, None)
        except Exception as exc:
            _logger.warning(
                "could not renew the processing lease of %s (%s)", key, type(exc).__name__
            )


#: The status query that can confirm each event class (payment links have none, spec §11.10).
_PRODUCT_OF: dict[type, str] = {
    QrisNotification: "qris",
    EwalletNotification: "ewallet",
    VirtualAccountNotification: "virtual_account",
    RetailNotification: "retail",
    VaPaymentRequest: "virtual_account",
}


def _status_query(event: CallbackEvent) -> tuple[str, str, Channel | None] | None:
    """``(product, your reference, channel)`` to confirm ``event`` by, or ``None`` when no
    status query can answer for it (payment links, unknown products, no reference)."""
    product = _PRODUCT_OF.get(type(event))
    if product is None:
        return None
    if isinstance(event, VaPaymentRequest):
        reference = event.trx_id
    else:
        reference = event.original_partner_reference_no
    return (product, reference, event.channel) if reference else None


def _amount_of(event: CallbackEvent) -> Amount | None:
    return event.paid_amount if isinstance(event, VaPaymentRequest) else event.amount


def _disagreement(event: CallbackEvent, found: TransactionStatusResponse) -> str | None:
    """Why the queried transaction contradicts the callback, or ``None`` if it agrees.

    The status must match (a refund after a payment still confirms the payment); Ayolinx's
    reference must match when both carry one; the amount must match when the query returns a
    non-zero one (an open-amount VA bill is 0).
    """
    status = found.latest_transaction_status
    agrees = status == event.status or (
        event.status is TransactionStatus.SUCCESS and status is TransactionStatus.REFUNDED
    )
    if not agrees:
        return "status"
    reference = getattr(event, "original_reference_no", None)
    if reference and found.original_reference_no and reference != found.original_reference_no:
        return "reference"
    sent, queried = _amount_of(event), found.amount
    if queried is None or queried.value == 0:
        return None
    if sent is None or (sent.value, sent.currency) != (queried.value, queried.currency):
        return "amount"
    return None


class CallbackHandler:
    """Receives everything Ayolinx sends to the merchant; see the module docstring.

    ``on_event``: one async callable or a sequence of them, awaited in order with each verified
    :data:`CallbackEvent`; if any raises, Ayolinx gets a 500 and will redeliver.
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
    for the unprefixed keys of 0.1).
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
        listener_timeout: float | None = DEFAULT_LISTENER_TIMEOUT,
        confirm_with: AyolinxClient | None = None,
        confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT,
        namespace: str | None = None,
    ) -> None:
        if not isinstance(client_key, str) or not client_key.strip():
            raise ConfigurationError("client_key must be a non-empty string")
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigurationError("client_secret must be a non-empty string")
        client_secret = Secret(client_secret)  # frame locals of a later error show no secret
        listeners = (on_event,) if callable(on_event) else tuple(on_event)
        if not listeners or not all(callable(fn) for fn in listeners):
            raise ConfigurationError("on_event must be an async callable or a sequence of them")
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
        self._namespace = namespace_for(client_key) if namespace is None else namespace
        self._dedupe = NamespacedDedupeStore(
            dedupe_store if dedupe_store is not None else MemoryDedupeStore(clock=clock),
            self._namespace,
        )
        self._listener_timeout = math.inf if listener_timeout is None else float(listener_timeout)
        self._confirm_with = confirm_with
        self._confirm_timeout = float(confirm_timeout)
        # Leases are renewed only when a delivery can outlive a third of one (issue 15): with
        # the defaults (20 s listeners, 300 s lease) no delivery ever needs it.
        budget = self._listener_timeout + (self._confirm_timeout if confirm_with else 0.0)
        renew = budget >= self._lease / 3
        self._leases = _LeaseKeeper(self._dedupe, self._lease) if renew else None
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
            headers = view  # the raw pairs hold the Bearer token: not kept in this frame
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
            _logger.info("callback rejected (service %s): %s (%s)", service, exc.reason, code)
            return _error(exc.http_status, code, exc.message)
        except _ListenerFailed:
            return _error(500, f"500{service}01", "Internal Server Error")
        except _ListenerTimedOut:
            return _error(504, f"504{service}00", "Timeout")
        except _ConfirmFailed:
            return _error(503, f"503{service}00", "Service Unavailable. Status not confirmed")
        except Exception:
            _logger.exception("unexpected error while handling a callback (service %s)", service)
            return _error(500, f"500{service}01", "Internal Server Error")

    async def _va_payment(
        self, view: Headers, body: bytes, request_path: str, signed_path: str
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
        event = parse_va_payment(
            body,
            path=request_path,
            timestamp=timestamp,
            external_id=view.get("X-EXTERNAL-ID"),
            partner_id=partner_id,
        )
        answer = _va_answer(event)
        await self._deliver(event)
        return answer

    async def _deliver(self, event: CallbackEvent) -> bool:
        """Confirm (with ``confirm_with``) and run the listeners once per dedupe key; False for
        an acknowledged duplicate.

        A key held by another delivery that is still running answers 409, not 200: if that
        delivery fails, Ayolinx must still have a retry pending. Every way out but success
        releases the claim, so the redelivery runs the listeners.
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
        leases = self._leases
        try:
            if leases is not None:
                leases.track(key, owner)
            await self._run_listeners(await self._confirm(event), key)
        except (CallbackRejected, _ConfirmFailed, _ListenerTimedOut):
            await self._release(key, owner)
            raise
        except Exception:
            _logger.exception(
                "callback listener failed for %s %s; answering 500 so Ayolinx retries",
                type(event).__name__,
                key,
            )
            await self._release(key, owner)
            raise _ListenerFailed from None
        except BaseException:
            await self._release(key, owner)
            raise
        finally:
            if leases is not None:
                leases.untrack(owner)
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

    async def _release(self, key: str, owner: str) -> None:
        with anyio.CancelScope(shield=True):
            await self._dedupe.release(key, owner)

    async def _run_listeners(self, event: CallbackEvent, key: str) -> None:
        """Call the listeners in order, directly (no task), inside one cancel scope that ends
        them at ``listener_timeout``."""
        with anyio.move_on_after(self._listener_timeout) as scope:
            for listener in self._listeners:
                await listener(event)
        if scope.cancelled_caught:
            _logger.warning(
                "callback listeners for %s %s overran %gs; cancelled, answering 504 so Ayolinx"
                " retries",
                type(event).__name__,
                key,
                self._listener_timeout,
            )
            raise _ListenerTimedOut

    async def _confirm(self, event: CallbackEvent) -> CallbackEvent:
        """``event`` marked confirmed once the merchant's own status query agrees with it;
        unchanged without ``confirm_with``, for a non-final status, or when no query can answer
        for it. Raises :class:`CallbackRejected` when the query contradicts it and
        :class:`_ConfirmFailed` when the query fails."""
        client = self._confirm_with
        if client is None or not event.status.is_terminal:
            return event
        query = _status_query(event)
        if query is None:
            _logger.info("%s cannot be confirmed by a status query", type(event).__name__)
            return event
        from .._reconcile import reconcile  # imported on first use: it loads every resource

        product, reference, channel = query
        try:
            with anyio.fail_after(self._confirm_timeout):
                found = await reconcile(client, reference, product=product, channel=channel)
        except NotFoundError:
            _logger.warning(
                "%s %s refused: the merchant's status query does not know %s",
                type(event).__name__,
                event.dedupe_key,
                reference,
            )
            raise CallbackRejected(
                404, "01", "Transaction Not Found", reason="unconfirmed"
            ) from None
        except ValidationError as exc:
            _logger.info("%s cannot be confirmed (%s)", type(event).__name__, exc.field)
            return event
        except Exception as exc:  # transport, 5xx, rate limit, our own deadline
            _logger.warning(
                "could not confirm %s %s (%s); answering 503 so Ayolinx retries",
                type(event).__name__,
                event.dedupe_key,
                type(exc).__name__,
            )
            raise _ConfirmFailed from None
        if found.latest_transaction_status is None:
            _logger.warning("status query for %s answered without a status", reference)
            raise _ConfirmFailed
        mismatch = _disagreement(event, found)
        if mismatch is not None:
            _logger.warning(
                "%s %s refused: its %s disagrees with the merchant's status query",
                type(event).__name__,
                event.dedupe_key,
                mismatch,
            )
            raise CallbackRejected(
                409, "00", f"Conflict. The {mismatch} was not confirmed", reason="unconfirmed"
            )
        return attrs.evolve(event, confirmed=True)


def _one_authorization(view: Headers) -> Secret | None:
    """The single ``Authorization`` value as a :class:`Secret`; 400 if it was sent twice."""
    sent = tuple(Secret(value) for value in view.values("Authorization"))
    if len(sent) > 1:
        raise CallbackRejected(
            400, "01", "Invalid Field Format Authorization", reason="duplicate_header"
        )
    return sent[0] if sent else None

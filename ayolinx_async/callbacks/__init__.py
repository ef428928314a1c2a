"""Merchant side: receive what Ayolinx sends (docs/protocol.md §10.1-§10.3, §18).

:class:`CallbackHandler` is the framework-agnostic endpoint; adapters for FastAPI, Starlette /
plain ASGI and aiohttp live in :mod:`ayolinx_async.integrations`.
"""

from .._errors import CallbackRejected
from ._answers import CallbackResponse
from ._dispatch import EventListener
from ._events import (
    CallbackEvent,
    EwalletNotification,
    NotificationKind,
    PaymentLinkNotification,
    PaymentNotification,
    QrisNotification,
    RetailNotification,
    VaPaymentRequest,
    VirtualAccountNotification,
    classify_notification,
    parse_notification,
    parse_va_payment,
)
from ._handler import (
    DEFAULT_CONFIRM_TIMEOUT,
    DEFAULT_LISTENER_TIMEOUT,
    DEFAULT_MAX_BODY_SIZE,
    CallbackHandler,
)
from ._routes import (
    DEFAULT_NOTIFY_PATH,
    TOKEN_ROUTE_PATH,
    VA_PAYMENT_ROUTE_PATH,
    NotifyRoute,
    Route,
    TokenRoute,
    VaPaymentRoute,
    secret_notify_path,
)
from ._stores import (
    DEDUPE_DONE,
    DedupeStore,
    IssuedTokenStore,
    MemoryDedupeStore,
    MemoryIssuedTokenStore,
    NamespacedDedupeStore,
    namespace_for,
)
from ._token_issuer import DEFAULT_TOKEN_TTL, TokenIssuer
from ._verify import (
    DEFAULT_TIMESTAMP_TOLERANCE,
    SERVICE_NOTIFY,
    SERVICE_TOKEN,
    SERVICE_VA_PAYMENT,
    CallbackVerifier,
    Headers,
    load_public_keys,
)

__all__ = [
    "DEDUPE_DONE",
    "DEFAULT_CONFIRM_TIMEOUT",
    "DEFAULT_LISTENER_TIMEOUT",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_NOTIFY_PATH",
    "DEFAULT_TIMESTAMP_TOLERANCE",
    "DEFAULT_TOKEN_TTL",
    "SERVICE_NOTIFY",
    "SERVICE_TOKEN",
    "SERVICE_VA_PAYMENT",
    "TOKEN_ROUTE_PATH",
    "VA_PAYMENT_ROUTE_PATH",
    "CallbackEvent",
    "CallbackHandler",
    "CallbackRejected",
    "CallbackResponse",
    "CallbackVerifier",
    "DedupeStore",
    "EventListener",
    "EwalletNotification",
    "Headers",
    "IssuedTokenStore",
    "MemoryDedupeStore",
    "MemoryIssuedTokenStore",
    "NamespacedDedupeStore",
    "NotificationKind",
    "NotifyRoute",
    "PaymentLinkNotification",
    "PaymentNotification",
    "QrisNotification",
    "RetailNotification",
    "Route",
    "TokenIssuer",
    "TokenRoute",
    "VaPaymentRequest",
    "VaPaymentRoute",
    "VirtualAccountNotification",
    "classify_notification",
    "load_public_keys",
    "namespace_for",
    "parse_notification",
    "parse_va_payment",
    "secret_notify_path",
]

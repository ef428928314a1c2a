"""Merchant side: receive what Ayolinx sends (spec §5.3-§5.4, §12).

:class:`CallbackHandler` is the framework-agnostic endpoint; adapters for FastAPI, Starlette /
plain ASGI and aiohttp live in :mod:`ayolinx_async.integrations`.
"""

from .events import (
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
from .handler import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_NOTIFY_PATH,
    TOKEN_ROUTE_PATH,
    VA_PAYMENT_ROUTE_PATH,
    CallbackHandler,
    CallbackResponse,
    EventListener,
    NotifyRoute,
    Route,
    TokenRoute,
    VaPaymentRoute,
)
from .stores import (
    DEDUPE_DONE,
    DedupeStore,
    IssuedTokenStore,
    MemoryDedupeStore,
    MemoryIssuedTokenStore,
)
from .token_issuer import DEFAULT_TOKEN_TTL, TokenIssuer
from .verify import (
    DEFAULT_TIMESTAMP_TOLERANCE,
    SERVICE_NOTIFY,
    SERVICE_TOKEN,
    SERVICE_VA_PAYMENT,
    CallbackRejected,
    CallbackVerifier,
    Headers,
    load_public_keys,
)

__all__ = [
    "DEDUPE_DONE",
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
    "parse_notification",
    "parse_va_payment",
]

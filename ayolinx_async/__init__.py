"""ayolinx-async: the async Python SDK for the Ayolinx payment gateway (Bank Indonesia SNAP).

Names load on first use (PEP 562), so ``import ayolinx_async`` stays cheap: a worker that only
verifies callbacks never imports the payment models, the simulator or the QR code renderer.
The public contract is ``__all__`` (and the ``__all__`` of each public package).
"""

# ruff: noqa: F405  (``__all__`` names star-imported names; tests/architecture checks them)

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    # Each source declares its names once, in its ``__all__`` (mypy reads only a literal one,
    # hence the model modules one by one); ``__all__`` below picks the public ones.
    from ._auth.stores import *  # noqa: F403
    from ._auth.token import *  # noqa: F403
    from ._client import *  # noqa: F403
    from ._config import *  # noqa: F403
    from ._endpoints import *  # noqa: F403
    from ._errors import *  # noqa: F403
    from ._reconcile import *  # noqa: F403
    from ._response import *  # noqa: F403
    from ._retries import *  # noqa: F403
    from ._wire import *  # noqa: F403
    from .callbacks import *  # noqa: F403
    from .models._common import *  # noqa: F403
    from .models._ewallet import *  # noqa: F403
    from .models._payment_link import *  # noqa: F403
    from .models._qris import *  # noqa: F403
    from .models._retail import *  # noqa: F403
    from .models._virtual_account import *  # noqa: F403
    from .signing import *  # noqa: F403
    from .transport import *  # noqa: F403

#: Public name -> the module that defines it (relative to this package).
_LAZY: dict[str, str] = {
    "MemoryTokenStore": "._auth.stores",
    "TokenStore": "._auth.stores",
    "AccessToken": "._auth.token",
    "RefreshPolicy": "._auth.token",
    "TokenCache": "._auth.token",
    "AyolinxClient": "._client",
    "ClientOptions": "._client",
    "RequestEvent": "._client",
    "ResponseEvent": "._client",
    "TOKEN_PATH": "._client",
    "Credentials": "._config",
    "Environment": "._config",
    "PaymentProduct": "._endpoints",
    "APIError": "._errors",
    "AnswerContext": "._errors",
    "AuthenticationError": "._errors",
    "AyolinxError": "._errors",
    "BadRequestError": "._errors",
    "CallbackRejected": "._errors",
    "ConfigurationError": "._errors",
    "ConflictError": "._errors",
    "ConnectError": "._errors",
    "ConnectTimeoutError": "._errors",
    "ConnectionDroppedError": "._errors",
    "InvalidTokenError": "._errors",
    "NotFoundError": "._errors",
    "OutcomeUnknownError": "._errors",
    "PermissionDeniedError": "._errors",
    "PoolTimeoutError": "._errors",
    "RateLimitError": "._errors",
    "ReadTimeoutError": "._errors",
    "RequestTimeoutError": "._errors",
    "ResponseCode": "._errors",
    "ResponseDecodeError": "._errors",
    "ResponseError": "._errors",
    "ServerError": "._errors",
    "TransportError": "._errors",
    "ValidationError": "._errors",
    "WriteTimeoutError": "._errors",
    "reconcile": "._reconcile",
    "APIResponse": "._response",
    "RetryPolicy": "._retries",
    "BodyEncoding": "._wire",
    "CallbackEvent": ".callbacks",
    "CallbackHandler": ".callbacks",
    "CallbackVerifier": ".callbacks",
    "TokenIssuer": ".callbacks",
    "Amount": ".models",
    "Channel": ".models",
    "EwalletPaymentRequest": ".models",
    "EwalletPaymentResponse": ".models",
    "EwalletStatusRequest": ".models",
    "EwalletStatusResponse": ".models",
    "PaymentLinkCreateRequest": ".models",
    "PaymentLinkCreateResponse": ".models",
    "PaymentLinkItem": ".models",
    "QrisCancelRequest": ".models",
    "QrisCancelResponse": ".models",
    "QrisGenerateRequest": ".models",
    "QrisGenerateResponse": ".models",
    "QrisQueryRequest": ".models",
    "QrisQueryResponse": ".models",
    "RetailCreateRequest": ".models",
    "RetailCreateResponse": ".models",
    "RetailQueryRequest": ".models",
    "RetailQueryResponse": ".models",
    "TransactionStatus": ".models",
    "TransactionStatusResponse": ".models",
    "UrlParam": ".models",
    "UrlParamType": ".models",
    "ValidUpToFormat": ".models",
    "VirtualAccountCreateRequest": ".models",
    "VirtualAccountCreateResponse": ".models",
    "VirtualAccountInquiryRequest": ".models",
    "VirtualAccountInquiryResponse": ".models",
    "VirtualAccountMode": ".models",
    "VirtualAccountTrxType": ".models",
    "LocalSigner": ".signing",
    "Signer": ".signing",
    "HttpRequest": ".transport",
    "HttpResponse": ".transport",
    "HttpxTransport": ".transport",
    "Timeout": ".transport",
    "Transport": ".transport",
}

__all__ = [
    "__version__",
    "AccessToken",
    "Amount",
    "APIError",
    "AnswerContext",
    "APIResponse",
    "AuthenticationError",
    "AyolinxClient",
    "AyolinxError",
    "BadRequestError",
    "BodyEncoding",
    "CallbackEvent",
    "CallbackHandler",
    "CallbackRejected",
    "CallbackVerifier",
    "ClientOptions",
    "Channel",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionDroppedError",
    "ConnectTimeoutError",
    "Credentials",
    "Environment",
    "EwalletPaymentRequest",
    "EwalletPaymentResponse",
    "EwalletStatusRequest",
    "EwalletStatusResponse",
    "HttpRequest",
    "HttpResponse",
    "HttpxTransport",
    "InvalidTokenError",
    "LocalSigner",
    "MemoryTokenStore",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaymentLinkCreateRequest",
    "PaymentLinkCreateResponse",
    "PaymentLinkItem",
    "PaymentProduct",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "QrisCancelRequest",
    "QrisCancelResponse",
    "QrisGenerateRequest",
    "QrisGenerateResponse",
    "QrisQueryRequest",
    "QrisQueryResponse",
    "RateLimitError",
    "ReadTimeoutError",
    "reconcile",
    "RefreshPolicy",
    "RequestEvent",
    "RequestTimeoutError",
    "ResponseCode",
    "ResponseDecodeError",
    "ResponseError",
    "ResponseEvent",
    "RetailCreateRequest",
    "RetailCreateResponse",
    "RetailQueryRequest",
    "RetailQueryResponse",
    "RetryPolicy",
    "ServerError",
    "Signer",
    "Timeout",
    "TOKEN_PATH",
    "TokenCache",
    "TokenIssuer",
    "TokenStore",
    "TransactionStatus",
    "TransactionStatusResponse",
    "Transport",
    "TransportError",
    "UrlParam",
    "UrlParamType",
    "ValidationError",
    "ValidUpToFormat",
    "VirtualAccountCreateRequest",
    "VirtualAccountCreateResponse",
    "VirtualAccountInquiryRequest",
    "VirtualAccountInquiryResponse",
    "VirtualAccountMode",
    "VirtualAccountTrxType",
    "WriteTimeoutError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ayolinx_async' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

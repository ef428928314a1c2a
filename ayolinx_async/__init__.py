"""ayolinx-async: the async Python SDK for the Ayolinx payment gateway (Bank Indonesia SNAP)."""

from ._version import __version__
from ._wire import BodyEncoding
from .auth.stores import MemoryTokenStore, TokenStore
from .auth.token import AccessToken, RefreshPolicy, TokenCache
from .callbacks import (
    CallbackEvent,
    CallbackHandler,
    CallbackRejected,
    CallbackVerifier,
    TokenIssuer,
)
from .client import TOKEN_PATH, AyolinxClient, RequestEvent, ResponseEvent
from .config import Credentials, Environment
from .errors import (
    APIError,
    AuthenticationError,
    AyolinxError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    InvalidTokenError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PoolTimeoutError,
    RateLimitError,
    ReadTimeoutError,
    RequestTimeoutError,
    ResponseCode,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
    WriteTimeoutError,
)
from .response import ApiResponse
from .retries import RetryPolicy
from .signing import LocalSigner, Signer
from .transport import HttpRequest, HttpResponse, HttpxTransport, Timeout, Transport

__all__ = [
    "TOKEN_PATH",
    "APIError",
    "AccessToken",
    "ApiResponse",
    "AuthenticationError",
    "AyolinxClient",
    "AyolinxError",
    "BadRequestError",
    "BodyEncoding",
    "CallbackEvent",
    "CallbackHandler",
    "CallbackRejected",
    "CallbackVerifier",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionDroppedError",
    "Credentials",
    "Environment",
    "HttpRequest",
    "HttpResponse",
    "HttpxTransport",
    "InvalidTokenError",
    "LocalSigner",
    "MemoryTokenStore",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "RateLimitError",
    "ReadTimeoutError",
    "RefreshPolicy",
    "RequestEvent",
    "RequestTimeoutError",
    "ResponseCode",
    "ResponseDecodeError",
    "ResponseEvent",
    "RetryPolicy",
    "ServerError",
    "Signer",
    "Timeout",
    "TokenCache",
    "TokenIssuer",
    "TokenStore",
    "Transport",
    "TransportError",
    "ValidationError",
    "WriteTimeoutError",
    "__version__",
]

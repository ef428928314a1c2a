"""The callback endpoints a :class:`~ayolinx_async.callbacks.CallbackHandler` serves, and their
default paths (the ones Ayolinx documents; docs/protocol.md §18)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from .._endpoints import CallbackPath
from .._errors import ConfigurationError
from ._kinds import NotificationKind
from ._verify import SERVICE_NOTIFY, SERVICE_TOKEN, SERVICE_VA_PAYMENT

__all__ = [
    "DEFAULT_NOTIFY_PATH",
    "TOKEN_ROUTE_PATH",
    "VA_PAYMENT_ROUTE_PATH",
    "NotifyRoute",
    "Route",
    "TokenRoute",
    "VaPaymentRoute",
    "route_table",
    "secret_notify_path",
]

# Plain strings (not the enum members), so they print and compare as before.
DEFAULT_NOTIFY_PATH: str = CallbackPath.NOTIFY_DEFAULT.value
TOKEN_ROUTE_PATH: str = CallbackPath.MERCHANT_TOKEN.value
VA_PAYMENT_ROUTE_PATH: str = CallbackPath.SNAP_VA_PAYMENT.value


def _is_path(value: object) -> bool:
    """A URL path: starts with '/', no query, fragment or whitespace."""
    return (
        isinstance(value, str)
        and value.startswith("/")
        and not any(c in value for c in "?# \t\r\n")
    )


def _check_path(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _is_path(value):
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


def secret_notify_path(prefix: str = DEFAULT_NOTIFY_PATH) -> str:
    """A fresh unguessable notify path, ``<prefix>/<22 random characters>``.

    Generate it once, keep it in your configuration (``AYOLINX_CALLBACK_PATH``) and register it
    with Ayolinx; only Ayolinx then knows where to post, so another merchant holding a genuinely
    signed callback of its own cannot find your endpoint.
    """
    if not _is_path(prefix):
        raise ConfigurationError("prefix must be a URL path starting with '/'")
    return f"{prefix.rstrip('/')}/{secrets.token_urlsafe(16)}"


def route_table(routes: Sequence[Route] | None) -> dict[str, Route]:
    """Routes by path (default: the three documented endpoints); refuses a non-route, two routes
    on one path and an empty list."""
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
    return table

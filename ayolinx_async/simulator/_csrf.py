"""The CSRF rule of the admin routes: a browser's POST must carry the per-process token.

The console's forms post ``application/x-www-form-urlencoded``, which any web page can also
send cross-site to ``127.0.0.1``. So a POST that a browser could have sent without a CORS
preflight, or that says it came from a browser (an ``Origin`` or ``Sec-Fetch-Site`` header),
must carry the token (form field ``csrf`` or header ``X-CSRF-Token``). Scripts and tests in
other languages post JSON or nothing from outside a browser and need no token: a cross-site page
cannot send ``application/json`` without a preflight, which the simulator never grants.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from ._asgi import Request

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_token", "needs_csrf", "valid_csrf"]

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

# Drawn once when the simulator package is imported: one token per process, never stored.
_TOKEN = secrets.token_urlsafe(32)

#: Content types a cross-site HTML form (or a no-preflight fetch) can send.
_BROWSER_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)


def csrf_token() -> str:
    """This process's token, for the hidden field of every console form."""
    return _TOKEN


def needs_csrf(request: Request) -> bool:
    """Whether this POST must carry the token: a form-like body, or sent by a browser."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return (
        content_type in _BROWSER_TYPES
        or "origin" in request.headers
        or "sec-fetch-site" in request.headers
    )


def valid_csrf(request: Request, form: Mapping[str, object]) -> bool:
    """The token from the form field or the header, compared in constant time."""
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), _TOKEN.encode("utf-8"))

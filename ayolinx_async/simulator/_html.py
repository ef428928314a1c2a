"""HTML for the simulator's pages: escaping, the page frame, badges, security headers.

Every value that came from a request goes through :func:`esc` (quotes included), so a
``partnerReferenceNo`` of ``<script>`` renders as text. Pages carry no inline script or style:
the Content-Security-Policy allows only the files under ``/_simulator/static/``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import resources
from typing import Any

from .._wire import JAKARTA
from ._asgi import ASGISend, send_bytes
from ._csrf import CSRF_FIELD, csrf_token
from ._ledger import STATUS_DESCRIPTIONS, Transaction

__all__ = [
    "HTML_HEADERS",
    "STATIC_FILES",
    "action_form",
    "amount_text",
    "esc",
    "kv_table",
    "page",
    "send_html",
    "send_static",
    "status_badge",
    "when",
]

#: Headers on every HTML page: no framing, no inline script, nothing loaded from elsewhere.
HTML_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

#: The static files the pages load, with their content types.
STATIC_FILES: Mapping[str, str] = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}

_NAV = (
    ("Transactions", "/_simulator/console"),
    ("Faults", "/_simulator/console#faults"),
    ("Credentials", "/_simulator/console#credentials"),
    ("JSON index", "/_simulator/?format=json"),
)


def esc(value: object) -> str:
    """``value`` as HTML text, quotes escaped too (safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def when(epoch: float | None) -> str:
    """A Jakarta wall-clock time for tables (``2025-01-10 11:12:12``)."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(int(epoch), JAKARTA).strftime("%Y-%m-%d %H:%M:%S")


def amount_text(txn: Transaction) -> str:
    """``IDR 10,000.00``; an open-amount VA that is not paid yet says so."""
    if txn.amount == 0:
        return f"{txn.currency} (open amount)"
    return f"{txn.currency} {txn.amount:,.2f}"


def status_badge(status: str, description: str | None = None, *, element_id: str = "") -> str:
    """A coloured badge: ``00 Success``."""
    label = f"{status} {description or STATUS_DESCRIPTIONS.get(status, '')}".strip()
    id_attr = f' id="{esc(element_id)}"' if element_id else ""
    return (
        f'<span{id_attr} class="badge s-{esc(status)}" data-status="{esc(status)}">'
        f"{esc(label)}</span>"
    )


def kv_table(rows: Iterable[tuple[str, str]], *, element_id: str = "") -> str:
    """A two-column table; the values are already HTML (escape them before)."""
    id_attr = f' id="{esc(element_id)}"' if element_id else ""
    body = "".join(f"<tr><th>{esc(key)}</th><td>{value}</td></tr>" for key, value in rows)
    return f'<table class="kv"{id_attr}>{body}</table>'


def action_form(
    action: str,
    label: str,
    *,
    element_id: str,
    css: str = "",
    fields: Mapping[str, str] | None = None,
    extra_html: str = "",
) -> str:
    """A POST form with the CSRF token and one submit button (works without JavaScript)."""
    hidden = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
        for k, v in {CSRF_FIELD: csrf_token(), **(fields or {})}.items()
    )
    button_class = f' class="{esc(css)}"' if css else ""
    return (
        f'<form method="post" action="{esc(action)}">{hidden}{extra_html}'
        f'<button type="submit" id="{esc(element_id)}"{button_class}>{esc(label)}</button></form>'
    )


def page(
    title: str,
    body: str,
    *,
    narrow: bool = False,
    live: bool = True,
    version: int | None = None,
    body_id: str = "",
) -> bytes:
    """A whole HTML document: header, ``body`` (already HTML), the stylesheet and script."""
    nav = "".join(f'<a href="{esc(href)}">{esc(name)}</a>' for name, href in _NAV)
    live_attrs = ""
    if live and version is not None:
        live_attrs = f' data-version="{version}" data-version-url="/_simulator/console/version"'
    id_attr = f' id="{esc(body_id)}"' if body_id else ""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · Ayolinx simulator</title>"
        # An empty icon: browsers would otherwise ask for /favicon.ico, an API 404.
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/_simulator/static/console.css">'
        '<script src="/_simulator/static/console.js" defer></script>'
        f"</head><body{id_attr}{live_attrs}>"
        '<header class="top"><span class="brand">Ayolinx simulator</span>'
        f'{nav}<span class="live" id="live-state">static</span></header>'
        f'<main class="{"narrow" if narrow else "wide"}">{body}</main></body></html>'
    )
    return document.encode("utf-8")


async def send_html(
    send: ASGISend, document: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> None:
    """Answer an HTML page with the security headers."""
    await send_bytes(
        send,
        status,
        document,
        content_type="text/html; charset=utf-8",
        headers={**HTML_HEADERS, **(headers or {})},
    )


async def send_static(send: ASGISend, name: str) -> bool:
    """Serve one file of ``static/`` (package data); False when there is no such file."""
    content_type = STATIC_FILES.get(name)
    if content_type is None:
        return False
    data = resources.files(__package__ or "").joinpath("static", name).read_bytes()
    headers: dict[str, Any] = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    await send_bytes(send, 200, data, content_type=content_type, headers=headers)
    return True

"""Admin routes under ``/_simulator/``: drive the ledger and inspect it over plain HTTP.

Unsigned on purpose: they are the simulator's "back office" (docs/protocol.md §18.1's Mark Success
button), for tests in other languages and for a person with a browser or curl.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import attrs

from ._asgi import ASGISend, Request, send_bytes, send_json
from ._checkout import checkout_page, pay_return_url
from ._console import console_page, console_rows, faults_from_form, state_version
from ._console_detail import detail_page
from ._csrf import needs_csrf, valid_csrf
from ._faults import Faults, SimulatorFault
from ._html import esc, page, send_html, send_static
from ._ledger import LookupFailed, TransitionRefused

if TYPE_CHECKING:
    from ._app import Simulator

__all__ = ["handle_admin"]

_ACTIONS = ("pay", "fail", "cancel", "expire", "refund", "status")

_ROUTES = [
    "GET  /_simulator/                                   this index (the console for browsers)",
    "GET  /_simulator/console[?rows=N]                   the console (HTML), newest N rows",
    "GET  /_simulator/console/transactions/{ref}         one transaction, its callbacks (HTML)",
    "GET  /_simulator/console/version                    {version}: grows with every change",
    "GET  /_simulator/transactions                       every transaction",
    "GET  /_simulator/transactions/{ref}                 one transaction",
    "POST /_simulator/transactions/{ref}/pay             {channel?, amount?, viaPaying?}",
    "POST /_simulator/transactions/{ref}/fail",
    "POST /_simulator/transactions/{ref}/cancel",
    "POST /_simulator/transactions/{ref}/expire",
    "POST /_simulator/transactions/{ref}/refund",
    "POST /_simulator/transactions/{ref}/status          {status, description?}",
    "GET  /_simulator/deliveries[?reference=ref]         callbacks and their attempts",
    "GET  /_simulator/requests                           recent API requests",
    "GET  /_simulator/faults                             current fault knobs",
    "POST /_simulator/faults                             {latency, jitter, errorRate, dropRate,"
    " paths, includeToken, dropCallbacks} or {inject: error|drop, count?, path?}",
    "POST /_simulator/deliveries/{id}/redeliver          send a callback again (new delivery)",
    "POST /_simulator/tokens/revoke                      invalidate every access token",
    "POST /_simulator/drain                              wait for outstanding deliveries",
    "GET  /_simulator/keys/ayolinx-public.pem            key that verifies callbacks",
    "GET  /_simulator/checkout/{ref}                     payer page (pay / fail / expire)",
    "(browser form posts need the csrf field or X-CSRF-Token header from the pages)",
]


_FORM = "application/x-www-form-urlencoded"


#: What every JSON answer of the admin routes carries: never sniffed, never cached.
_JSON_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
#: The methods the admin routes answer (HEAD as GET without the body).
_ALLOW = "GET, HEAD, POST"


class _AdminError(Exception):
    def __init__(self, status: int, message: str, *, allow: str | None = None) -> None:
        self.status = status
        self.message = message
        self.allow = allow
        super().__init__(message)


async def _send_json(
    send: ASGISend, status: int, payload: Mapping[str, Any] | list[Any], **headers: str
) -> None:
    """A JSON answer with the admin headers (``nosniff``, ``no-store``) and any extra ones."""
    await send_json(send, status, payload, headers={**_JSON_HEADERS, **headers})


def _without_body(send: ASGISend) -> ASGISend:
    """``send`` for a HEAD request: the GET answer's status and headers, an empty body."""

    async def send_head(message: MutableMapping[str, Any]) -> None:
        if message.get("type") == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _form_fields(request: Request) -> dict[str, str]:
    """An urlencoded body as a dict (last value wins); empty for any other body."""
    if _content_type(request) != _FORM:
        return {}
    parsed = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


def _form_or_json(request: Request) -> tuple[dict[str, Any], bool]:
    """The POST body as a dict, and whether it came from an HTML form."""
    if _content_type(request) == _FORM:
        return _form_fields(request), True
    if not request.body.strip():
        return {}, False
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise _AdminError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise _AdminError(400, "body must be a JSON object")
    return data, False


def _wants_html(request: Request) -> bool:
    """A browser asking for a page (``Accept: text/html``), unless ``?format=json``."""
    if "format=json" in request.query.split("&"):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


async def _see_other(send: ASGISend, location: str) -> None:
    await send_bytes(send, 303, b"", content_type="text/plain", headers={"Location": location})


async def handle_admin(sim: Simulator, request: Request, send: ASGISend) -> None:
    """Route one ``/_simulator/...`` request."""
    parts = [p for p in request.path.split("/") if p][1:]
    if request.method == "HEAD":
        request, send = attrs.evolve(request, method="GET"), _without_body(send)
    try:
        # The rule is explained in ._csrf; it is checked before anything acts.
        if (
            request.method == "POST"
            and needs_csrf(request)
            and not valid_csrf(request, _form_fields(request))
        ):
            raise _AdminError(403, "missing or wrong CSRF token (reload the page)")
        await _route(sim, request, parts, send)
    except _AdminError as exc:
        await _error(request, send, exc.status, exc.message, allow=exc.allow)
    except LookupFailed as exc:
        await _error(request, send, 404, str(exc))
    except TransitionRefused as exc:
        await _error(request, send, 409, str(exc))


async def _error(
    request: Request, send: ASGISend, status: int, message: str, *, allow: str | None = None
) -> None:
    """JSON for scripts; a small page for a person with a browser (``Allow`` on a 405)."""
    extra = {"Allow": allow} if allow else {}
    if not _wants_html(request) and _content_type(request) != _FORM:
        await _send_json(send, status, {"error": message}, **extra)
        return
    body = (
        f'<section class="card" id="error"><h1>{status}</h1><p>{esc(message)}</p>'
        '<p><a href="/_simulator/console">Back to the console</a></p></section>'
    )
    document = page(f"Error {status}", body, narrow=True, live=False)
    await send_html(send, document, status=status, headers=extra)


async def _route(sim: Simulator, request: Request, parts: list[str], send: ASGISend) -> None:
    method = request.method
    if (not parts and method == "GET" and _wants_html(request)) or (
        parts == ["console"] and method == "GET"
    ):
        await send_html(send, console_page(sim, rows=console_rows(request.query)))
        return
    if not parts and method == "GET":
        await _send_json(
            send,
            200,
            {
                "simulator": "ayolinx",
                "merchant": sim.merchant.client_key,
                "running": sim.running,
                "transactions": len(sim.transactions()),
                "deliveries": len(sim.deliveries()),
                "routes": _ROUTES,
            },
        )
        return
    head = parts[0] if parts else ""
    if head in {"console", "static"} and method == "GET":
        await _pages(sim, parts, send)
        return
    if head == "transactions":
        await _transactions(sim, request, parts[1:], send)
        return
    if head == "deliveries" and method == "GET" and len(parts) == 1:
        query = parse_qs(request.query)
        reference = query.get("reference", [None])[-1]
        await _send_json(send, 200, [d.to_json() for d in sim.deliveries(reference)])
        return
    if head == "deliveries" and len(parts) == 3 and parts[2] == "redeliver" and method == "POST":
        data, from_form = _form_or_json(request)
        delivery = await sim.redeliver(parts[1])
        if from_form:
            await _see_other(send, _return_to(data) or "/_simulator/console")
            return
        await _send_json(send, 200, delivery.to_json())
        return
    if head == "requests" and method == "GET":
        await _send_json(send, 200, [r.to_json() for r in sim.requests()])
        return
    if head == "faults":
        await _faults(sim, request, send)
        return
    if parts == ["tokens", "revoke"] and method == "POST":
        await _send_json(send, 200, {"revoked": sim.revoke_tokens()})
        return
    if parts == ["drain"] and method == "POST":
        await sim.drain(timeout=60.0)
        await _send_json(send, 200, {"pending": 0})
        return
    if parts == ["keys", "ayolinx-public.pem"] and method == "GET":
        await send_bytes(send, 200, sim.ayolinx_public_pem, content_type="application/x-pem-file")
        return
    if head == "checkout" and len(parts) == 2 and method == "GET":
        await send_html(send, checkout_page(sim.transaction(parts[1]), state_version(sim)))
        return
    if method in {"GET", "POST"}:
        raise _AdminError(404, "no such admin route")
    raise _AdminError(405, f"{method} is not answered here", allow=_ALLOW)


async def _pages(sim: Simulator, parts: list[str], send: ASGISend) -> None:
    """The console's own GET routes: static files, the version counter, a transaction."""
    if len(parts) == 2 and parts[0] == "static" and await send_static(send, parts[1]):
        return
    if parts == ["console", "version"]:
        await _send_json(send, 200, {"version": state_version(sim)})
        return
    if len(parts) == 3 and parts[:2] == ["console", "transactions"]:
        await send_html(send, detail_page(sim, sim.transaction(parts[2])))
        return
    raise _AdminError(404, "no such admin route")


def _return_to(data: Mapping[str, Any]) -> str | None:
    """A form's ``returnTo``, only if it is one of the simulator's own pages."""
    target = data.get("returnTo")
    if not isinstance(target, str) or not target.startswith("/_simulator/"):
        return None
    if "//" in target or "\\" in target or any(ord(ch) < 33 for ch in target):
        return None
    return target


async def _transactions(sim: Simulator, request: Request, parts: list[str], send: ASGISend) -> None:
    if not parts and request.method == "GET":
        await _send_json(send, 200, [t.to_json() for t in sim.transactions()])
        return
    if len(parts) == 1 and request.method == "GET":
        await _send_json(send, 200, sim.transaction(parts[0]).to_json())
        return
    if len(parts) != 2 or request.method != "POST" or parts[1] not in _ACTIONS:
        raise _AdminError(404, "no such admin route")
    reference, action = parts
    data, from_form = _form_or_json(request)
    try:
        txn = await _act(sim, reference, action, data)
    except TransitionRefused:
        raise  # 409, answered by handle_admin
    except ValueError as exc:
        raise _AdminError(400, str(exc)) from None
    if from_form:
        # A person clicked a button: the merchant's return page after paying, else back to the
        # page the button was on (the checkout page by default).
        back = pay_return_url(txn) if action == "pay" else None
        await _see_other(send, back or _return_to(data) or f"/_simulator/checkout/{reference}")
        return
    await _send_json(send, 200, txn.to_json())


async def _act(sim: Simulator, reference: str, action: str, data: Mapping[str, Any]) -> Any:
    if action == "pay":
        via = data.get("viaPaying", False)
        return await sim.pay(
            reference,
            channel=data.get("channel") or None,
            amount=data.get("amount") or None,
            via_paying=via is True or str(via).lower() in {"1", "true", "yes"},
        )
    if action == "status":
        status = data.get("status")
        if not isinstance(status, str):
            raise ValueError("status is required")
        return await sim.set_status(reference, status, description=data.get("description"))
    operations = {
        "fail": sim.fail,
        "cancel": sim.cancel,
        "expire": sim.expire,
        "refund": sim.refund,
    }
    return await operations[action](reference)


#: The most one-shot faults one admin call may queue (each is kept until a request uses it).
_MAX_INJECT = 10_000


def _finite(data: Mapping[str, Any], key: str) -> float:
    """A fault knob from JSON as a finite float (NaN or infinity would stall every call)."""
    value = float(data.get(key, 0.0))
    if not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number")
    return value


def _fault_paths(data: Mapping[str, Any]) -> list[str] | None:
    """``paths``: a list of API paths, or null for all (a bare string is refused, not split)."""
    paths = data.get("paths")
    if paths is None:
        return None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError("paths must be a list of API paths")
    return paths


def _apply_faults(sim: Simulator, data: Mapping[str, Any], *, from_form: bool) -> None:
    """Set the knobs (the console's form or JSON) or queue one-shot faults (``inject``)."""
    if from_form and data.get("form") == "faults":
        sim.faults = faults_from_form(dict(data))
    elif "inject" in data:
        count = int(data.get("count", 1))
        if not 1 <= count <= _MAX_INJECT:
            raise ValueError(f"count must be between 1 and {_MAX_INJECT}")
        sim.inject_fault(SimulatorFault(str(data["inject"])), count=count, path=data.get("path"))
    else:
        paths: Any = _fault_paths(data)  # mypy reads the optional(frozenset) converter as generic
        sim.faults = Faults(
            latency=_finite(data, "latency"),
            jitter=_finite(data, "jitter"),
            error_rate=_finite(data, "errorRate"),
            drop_rate=_finite(data, "dropRate"),
            paths=paths,
            include_token=bool(data.get("includeToken", True)),
            drop_callbacks=_finite(data, "dropCallbacks"),
        )


async def _faults(sim: Simulator, request: Request, send: ASGISend) -> None:
    if request.method == "POST":
        data, from_form = _form_or_json(request)
        try:
            _apply_faults(sim, data, from_form=from_form)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _AdminError(400, f"bad fault settings: {exc}") from None
        if from_form:
            await _see_other(send, "/_simulator/console#faults")
            return
    elif request.method != "GET":
        raise _AdminError(405, "GET or POST", allow="GET, HEAD, POST")
    await _send_json(
        send,
        200,
        {**sim.faults.to_json(), "pendingInjections": sim.fault_plan.pending_shots},
    )

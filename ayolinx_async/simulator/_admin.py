"""Admin routes under ``/_simulator/``: drive the ledger and inspect it over plain HTTP.

Unsigned on purpose: they are the simulator's "back office" (docs/protocol.md §18.1's Mark Success
button), for tests in other languages and for a person with a browser or curl.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from ._asgi import ASGISend, Request, send_bytes, send_json
from ._checkout import checkout_page
from ._console import console_page, faults_from_form, state_version
from ._console_detail import detail_page
from ._csrf import needs_csrf, valid_csrf
from ._faults import Faults, SimulatorFault
from ._html import esc, page, send_html, send_static
from ._ledger import LookupFailed, Transaction, TransitionRefused

if TYPE_CHECKING:
    from ._app import Simulator

__all__ = ["handle_admin"]

_ACTIONS = ("pay", "fail", "cancel", "expire", "refund", "status")

_ROUTES = [
    "GET  /_simulator/                                   this index (the console for browsers)",
    "GET  /_simulator/console                            the console (HTML)",
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


class _AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


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
        await _error(request, send, exc.status, exc.message)
    except LookupFailed as exc:
        await _error(request, send, 404, str(exc))
    except TransitionRefused as exc:
        await _error(request, send, 409, str(exc))


async def _error(request: Request, send: ASGISend, status: int, message: str) -> None:
    """JSON for scripts; a small page for a person with a browser."""
    if not _wants_html(request) and _content_type(request) != _FORM:
        await send_json(send, status, {"error": message})
        return
    body = (
        f'<section class="card" id="error"><h1>{status}</h1><p>{esc(message)}</p>'
        '<p><a href="/_simulator/console">Back to the console</a></p></section>'
    )
    await send_html(send, page(f"Error {status}", body, narrow=True, live=False), status=status)


async def _route(sim: Simulator, request: Request, parts: list[str], send: ASGISend) -> None:
    method = request.method
    if (not parts and method == "GET" and _wants_html(request)) or (
        parts == ["console"] and method == "GET"
    ):
        await send_html(send, console_page(sim))
        return
    if not parts and method == "GET":
        await send_json(
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
        await send_json(send, 200, [d.to_json() for d in sim.deliveries(reference)])
        return
    if head == "deliveries" and len(parts) == 3 and parts[2] == "redeliver" and method == "POST":
        data, from_form = _form_or_json(request)
        delivery = await sim.redeliver(parts[1])
        if from_form:
            await _see_other(send, _return_to(data) or "/_simulator/console")
            return
        await send_json(send, 200, delivery.to_json())
        return
    if head == "requests" and method == "GET":
        await send_json(send, 200, [r.to_json() for r in sim.requests()])
        return
    if head == "faults":
        await _faults(sim, request, send)
        return
    if parts == ["tokens", "revoke"] and method == "POST":
        await send_json(send, 200, {"revoked": sim.revoke_tokens()})
        return
    if parts == ["drain"] and method == "POST":
        await sim.drain(timeout=60.0)
        await send_json(send, 200, {"pending": 0})
        return
    if parts == ["keys", "ayolinx-public.pem"] and method == "GET":
        await send_bytes(send, 200, sim.ayolinx_public_pem, content_type="application/x-pem-file")
        return
    if head == "checkout" and len(parts) == 2 and method == "GET":
        await send_html(send, checkout_page(sim.transaction(parts[1]), state_version(sim)))
        return
    raise _AdminError(404 if method in {"GET", "POST"} else 405, "no such admin route")


async def _pages(sim: Simulator, parts: list[str], send: ASGISend) -> None:
    """The console's own GET routes: static files, the version counter, a transaction."""
    if len(parts) == 2 and parts[0] == "static" and await send_static(send, parts[1]):
        return
    if parts == ["console", "version"]:
        await send_json(send, 200, {"version": state_version(sim)})
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


def _pay_return(txn: Transaction) -> str | None:
    """The merchant's ``PAY_RETURN`` URL of a transaction, if it is a plain http(s) URL."""
    url = txn.details.get("payReturnUrl")
    if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https"}:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


async def _transactions(sim: Simulator, request: Request, parts: list[str], send: ASGISend) -> None:
    if not parts and request.method == "GET":
        await send_json(send, 200, [t.to_json() for t in sim.transactions()])
        return
    if len(parts) == 1 and request.method == "GET":
        await send_json(send, 200, sim.transaction(parts[0]).to_json())
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
        back = _pay_return(txn) if action == "pay" else None
        await _see_other(send, back or _return_to(data) or f"/_simulator/checkout/{reference}")
        return
    await send_json(send, 200, txn.to_json())


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


async def _faults(sim: Simulator, request: Request, send: ASGISend) -> None:
    if request.method == "POST":
        data, from_form = _form_or_json(request)
        try:
            if from_form and data.get("form") == "faults":
                sim.faults = faults_from_form(data)
            elif "inject" in data:
                sim.inject_fault(
                    SimulatorFault(str(data["inject"])),
                    count=int(data.get("count", 1)),
                    path=data.get("path"),
                )
            else:
                paths = data.get("paths")
                sim.faults = Faults(
                    latency=float(data.get("latency", 0.0)),
                    jitter=float(data.get("jitter", 0.0)),
                    error_rate=float(data.get("errorRate", 0.0)),
                    drop_rate=float(data.get("dropRate", 0.0)),
                    paths=frozenset(paths) if paths is not None else None,
                    include_token=bool(data.get("includeToken", True)),
                    drop_callbacks=float(data.get("dropCallbacks", 0.0)),
                )
        except (TypeError, ValueError) as exc:
            raise _AdminError(400, f"bad fault settings: {exc}") from None
        if from_form:
            await _see_other(send, "/_simulator/console#faults")
            return
    elif request.method != "GET":
        raise _AdminError(405, "GET or POST")
    await send_json(
        send,
        200,
        {**sim.faults.to_json(), "pendingInjections": sim.fault_plan.pending_shots},
    )

"""Admin routes under ``/_simulator/``: drive the ledger and inspect it over plain HTTP.

Unsigned on purpose: they are the simulator's "back office" (docs/protocol.md §18.1's Mark Success
button), for tests in other languages and for a person with a browser or curl.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ._asgi import ASGISend, Request, send_bytes, send_json
from ._faults import Faults, SimulatorFault
from ._ledger import LookupFailed, TransitionRefused

if TYPE_CHECKING:
    from ._app import Simulator

__all__ = ["handle_admin"]

_ACTIONS = ("pay", "fail", "cancel", "expire", "refund", "status")

_ROUTES = [
    "GET  /_simulator/                                   this index",
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
    "POST /_simulator/tokens/revoke                      invalidate every access token",
    "POST /_simulator/drain                              wait for outstanding deliveries",
    "GET  /_simulator/keys/ayolinx-public.pem            key that verifies callbacks",
    "GET  /_simulator/checkout/{ref}                     payer page (pay / fail buttons)",
]


class _AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def _form_or_json(request: Request) -> tuple[dict[str, Any], bool]:
    """The POST body as a dict, and whether it came from an HTML form."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        parsed = parse_qs(request.body.decode("utf-8", "replace"))
        return {key: values[-1] for key, values in parsed.items()}, True
    if not request.body.strip():
        return {}, False
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise _AdminError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise _AdminError(400, "body must be a JSON object")
    return data, False


async def handle_admin(sim: Simulator, request: Request, send: ASGISend) -> None:
    """Route one ``/_simulator/...`` request."""
    parts = [p for p in request.path.split("/") if p][1:]
    try:
        await _route(sim, request, parts, send)
    except _AdminError as exc:
        await send_json(send, exc.status, {"error": exc.message})
    except LookupFailed as exc:
        await send_json(send, 404, {"error": str(exc)})
    except TransitionRefused as exc:
        await send_json(send, 409, {"error": str(exc)})


async def _route(sim: Simulator, request: Request, parts: list[str], send: ASGISend) -> None:
    method = request.method
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
    if head == "transactions":
        await _transactions(sim, request, parts[1:], send)
        return
    if head == "deliveries" and method == "GET":
        query = parse_qs(request.query)
        reference = query.get("reference", [None])[-1]
        await send_json(send, 200, [d.to_json() for d in sim.deliveries(reference)])
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
        await _checkout(sim, parts[1], send)
        return
    raise _AdminError(404 if method in {"GET", "POST"} else 405, "no such admin route")


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
        # A person clicked a button on the checkout page: go back to it.
        location = f"/_simulator/checkout/{reference}"
        await send_bytes(send, 303, b"", content_type="text/plain", headers={"Location": location})
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
        data, _ = _form_or_json(request)
        try:
            if "inject" in data:
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
    elif request.method != "GET":
        raise _AdminError(405, "GET or POST")
    await send_json(
        send,
        200,
        {**sim.faults.to_json(), "pendingInjections": sim.fault_plan.pending_shots},
    )


async def _checkout(sim: Simulator, reference: str, send: ASGISend) -> None:
    """A tiny payer page: what is due, and buttons that pay or fail it."""
    txn = sim.transaction(reference)
    ref = html.escape(reference, quote=True)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in (
            ("Product", txn.product.value),
            ("Channel", txn.channel),
            ("Reference", txn.reference_no),
            ("Merchant reference", txn.partner_reference_no),
            ("Amount", f"{txn.currency} {txn.amount:,.2f}"),
            ("Status", f"{txn.status} {txn.status_desc}"),
        )
    )
    buttons = ""
    if not txn.is_final:
        buttons = (
            f'<form method="post" action="/_simulator/transactions/{ref}/pay">'
            '<button type="submit">Pay</button></form>'
            f'<form method="post" action="/_simulator/transactions/{ref}/fail">'
            '<button type="submit">Fail</button></form>'
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Ayolinx simulator checkout"
        f"</title></head><body><h1>Ayolinx simulator</h1><table>{rows}</table>{buttons}"
        "</body></html>"
    )
    await send_bytes(send, 200, page.encode("utf-8"), content_type="text/html; charset=utf-8")

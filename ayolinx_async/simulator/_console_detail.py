"""One transaction in the console: its status history and every callback delivery, each attempt
with the exact signed request sent and the merchant's answer, and a Redeliver button."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from ._checkout import payer_actions, transaction_path
from ._console import delivery_badge, detail_href, state_version
from ._delivery import Delivery, DeliveryAttempt
from ._html import action_form, amount_text, esc, kv_table, page, status_badge, when
from ._ledger import STATUS_DESCRIPTIONS, Transaction

if TYPE_CHECKING:
    from ._app import Simulator

__all__ = ["detail_page", "redeliver_path"]


def redeliver_path(delivery_id: str) -> str:
    """``POST`` here to send a delivery's callback again as a new delivery."""
    return f"/_simulator/deliveries/{quote(delivery_id, safe='')}/redeliver"


def _pretty(body: bytes | str) -> str:
    """A JSON body indented for reading; anything else as it is."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _http_badge(attempt: DeliveryAttempt) -> str:
    if attempt.status_code is None:
        label, css = attempt.error or "no answer", "http-err"
    else:
        label = f"HTTP {attempt.status_code}"
        css = "http-2xx" if 200 <= attempt.status_code < 300 else "http-err"
    return f'<span class="badge {css} attempt-status">{esc(label)}</span>'


def _attempt(attempt: DeliveryAttempt, delivery: Delivery, *, last: bool) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in attempt.request_headers)
    request_body = attempt.request_body or delivery.body
    error = f'<p class="attempt-error">{esc(attempt.error)}</p>' if attempt.error else ""
    return (
        f'<details class="attempt" data-number="{attempt.number}"{" open" if last else ""}>'
        f"<summary>Attempt {attempt.number} · {esc(when(attempt.at))} · {esc(attempt.step)}"
        f" {_http_badge(attempt)}</summary>"
        f'<p class="muted">POST <code class="attempt-url">{esc(attempt.url)}</code>'
        f" (waited {attempt.delay_before:g} s nominal before it)</p>"
        f'<p class="muted">Signed request sent</p><pre class="request-headers">{esc(headers)}'
        f'</pre><pre class="request-body">{esc(_pretty(request_body))}</pre>'
        f'<p class="muted">Merchant answered</p>{error}'
        f'<pre class="attempt-response">{esc(_pretty(attempt.response))}</pre></details>'
    )


def _delivery(delivery: Delivery) -> str:
    attempts = "".join(
        _attempt(a, delivery, last=i == len(delivery.attempts) - 1)
        for i, a in enumerate(delivery.attempts)
    )
    if not attempts:
        attempts = '<p class="empty">No attempt yet.</p>'
    redeliver = action_form(
        redeliver_path(delivery.id),
        "Redeliver now",
        element_id=f"redeliver-{delivery.id}",
        css="small redeliver",
        fields={"returnTo": detail_href(delivery.reference_no)},
    )
    return (
        f'<div class="delivery" id="delivery-{esc(delivery.id)}" data-delivery-id='
        f'"{esc(delivery.id)}" data-state="{esc(delivery.state.value)}">'
        f'<div class="delivery-head"><strong>{esc(delivery.id)}</strong>'
        f"{delivery_badge(delivery)}<span>{esc(delivery.kind.value)} for status"
        f" {esc(delivery.latest_status)}</span><code>{esc(delivery.url)}</code>{redeliver}</div>"
        f"{attempts}</div>"
    )


def _deliveries(deliveries: Sequence[Delivery]) -> str:
    inner = "".join(_delivery(d) for d in deliveries) or (
        '<p class="empty">No callback was sent for this transaction (no notify URL, or'
        " dropped by the dropCallbacks knob).</p>"
    )
    return (
        '<section class="card" id="deliveries" data-live><h2>Callback deliveries</h2>'
        '<p class="muted">Redeliver now sends the same body again, freshly signed, as one new'
        " delivery (with its own retries); the original stays as it was.</p>"
        f"{inner}</section>"
    )


def _history(txn: Transaction) -> str:
    rows = "".join(
        f'<tr class="history-row"><td>{esc(when(at))}</td>'
        f"<td>{status_badge(status, STATUS_DESCRIPTIONS.get(status))}</td></tr>"
        for at, status in txn.history
    )
    return (
        '<section class="card" id="history" data-live><h2>Status history</h2>'
        f"<table><thead><tr><th>At</th><th>Status</th></tr></thead><tbody>{rows}</tbody>"
        "</table></section>"
    )


def _summary(txn: Transaction) -> str:
    back = detail_href(txn.reference_no)
    checkout = f"/_simulator/checkout/{quote(txn.reference_no, safe='')}"
    rows = [
        ("Merchant reference", f'<span id="partner-ref">{esc(txn.partner_reference_no)}</span>'),
        ("Reference", f'<code id="reference">{esc(txn.reference_no)}</code>'),
        ("Product / channel", esc(f"{txn.product.value} / {txn.paid_channel or txn.channel}")),
        ("Amount", esc(amount_text(txn))),
        ("Status", status_badge(txn.status, txn.status_desc, element_id="status")),
        ("Created", esc(when(txn.created_at))),
        ("Expires", esc(when(txn.expires_at))),
        ("Notify URL", esc(txn.notify_url or "(merchant default)")),
        ("Payer page", f'<a id="checkout-link" href="{esc(checkout)}">{esc(checkout)}</a>'),
    ]
    extra = ""
    if txn.status == "00":
        extra = action_form(
            f"{transaction_path(txn)}/refund",
            "Refund",
            element_id="refund",
            fields={"returnTo": back},
        )
    return (
        f'<section class="card" id="summary" data-live><h2>Transaction</h2>{kv_table(rows)}'
        f"{payer_actions(txn, return_to=back)}{extra}</section>"
    )


def detail_page(sim: Simulator, txn: Transaction) -> bytes:
    """The console page of ``txn``."""
    body = (
        f'<p><a href="/_simulator/console">← all transactions</a></p>'
        f"<h1>Transaction {esc(txn.partner_reference_no)}</h1>"
        f'<div class="grid">{_summary(txn)}{_history(txn)}</div>'
        f"{_deliveries(sim.deliveries(txn.reference_no))}"
    )
    return page(
        f"Transaction {txn.partner_reference_no}",
        body,
        version=state_version(sim),
        body_id="detail",
    )

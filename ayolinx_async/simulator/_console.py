"""The console, ``/_simulator/console``: transactions, fault knobs and merchant credentials.

What a QA engineer opens while testing a shop. It never shows a client secret, a private key or
an access token: only what a merchant may paste into its own configuration. Live refresh is
short polling of :func:`state_version` (see ``static/console.js``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._accounts import MerchantAccount, public_pem
from ._delivery import Delivery, DeliveryState
from ._faults import Faults
from ._html import action_form, amount_text, esc, kv_table, page, status_badge, when
from ._ledger import Transaction

if TYPE_CHECKING:
    from ._app import Simulator

__all__ = [
    "CONSOLE_ROWS",
    "console_page",
    "console_rows",
    "detail_href",
    "faults_from_form",
    "state_version",
]

#: Rows the transactions table shows at first (newest first), and how many "Show more" adds;
#: the JSON routes list everything.
CONSOLE_ROWS = 200
#: The most rows one console page renders, however large ``?rows=`` is.
_ROWS_LIMIT = 20_000


def state_version(sim: Simulator) -> int:
    """A counter that grows with every ledger or delivery change (new transaction, status move,
    new delivery, new attempt, finished delivery): what the pages poll to know when to reload."""
    transactions = sim.transactions()
    deliveries = sim.deliveries()
    return (
        sum(len(txn.history) for txn in transactions)
        + len(transactions)
        + sum(len(d.attempts) + (d.state is not DeliveryState.PENDING) for d in deliveries)
        + len(deliveries)
    )


def detail_href(reference_no: str) -> str:
    """The console page of one transaction."""
    return f"/_simulator/console/transactions/{quote(reference_no, safe='')}"


def delivery_badge(delivery: Delivery) -> str:
    """``delivered`` / ``pending`` / ``failed``."""
    state = delivery.state.value
    return f'<span class="badge {esc(state)} delivery-state">{esc(state)}</span>'


def console_rows(query: str) -> int:
    """The ``?rows=`` of a console URL, clamped to ``CONSOLE_ROWS.._ROWS_LIMIT``."""
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "rows" and value.isdigit() and len(value) <= 6:
            return max(CONSOLE_ROWS, min(int(value), _ROWS_LIMIT))
    return CONSOLE_ROWS


def _more(total: int, shown: int) -> str:
    """ "Showing the newest N of M" and a link that shows more (older rows)."""
    if total <= shown:
        return ""
    more = min(CONSOLE_ROWS, total - shown, _ROWS_LIMIT - shown)
    link = (
        f' <a id="show-more" href="/_simulator/console?rows={shown + more}">Show {more} more</a>'
        if more > 0
        else ""
    )
    return (
        f'<p class="muted" id="more">Showing the newest {shown} of {total}.{link} Every'
        ' transaction is in the JSON at <a href="/_simulator/transactions">'
        "/_simulator/transactions</a>.</p>"
    )


def _transactions(sim: Simulator, shown: int) -> str:
    transactions = sorted(sim.transactions(), key=lambda t: t.created_at, reverse=True)
    counts: dict[str, int] = {}
    for delivery in sim.deliveries():
        counts[delivery.reference_no] = counts.get(delivery.reference_no, 0) + 1
    if not transactions:
        rows = (
            '<tr><td colspan="8" class="empty">No transactions yet: create one with the SDK'
            " (e.g. <code>client.qris.generate(...)</code>).</td></tr>"
        )
    else:
        rows = "".join(_row(txn, counts.get(txn.reference_no, 0)) for txn in transactions[:shown])
    return (
        '<section class="card" id="transactions" data-live><h2>Transactions</h2>'
        "<table><thead><tr><th>Created</th><th>Merchant reference</th><th>Product</th>"
        '<th>Channel</th><th class="num">Amount</th><th>Status</th><th class="num">Callbacks</th>'
        f"<th></th></tr></thead><tbody>{rows}</tbody></table>"
        f"{_more(len(transactions), shown)}</section>"
    )


def _row(txn: Transaction, callbacks: int) -> str:
    href = detail_href(txn.reference_no)
    checkout = f"/_simulator/checkout/{quote(txn.reference_no, safe='')}"
    return (
        f'<tr class="txn" data-ref="{esc(txn.reference_no)}">'
        f"<td>{esc(when(txn.created_at))}</td>"
        f'<td><a class="txn-link" href="{esc(href)}">{esc(txn.partner_reference_no)}</a></td>'
        f"<td>{esc(txn.product.value)}</td><td>{esc(txn.paid_channel or txn.channel)}</td>"
        f'<td class="num">{esc(amount_text(txn))}</td>'
        f"<td>{status_badge(txn.status, txn.status_desc)}</td>"
        f'<td class="num">{callbacks}</td>'
        f'<td><a class="checkout-link" href="{esc(checkout)}">checkout</a></td></tr>'
    )


def _number_input(name: str, label: str, value: float, *, step: str, maximum: str = "") -> str:
    limit = f' max="{maximum}"' if maximum else ""
    return (
        f'<div><label for="fault-{esc(name)}">{esc(label)}</label>'
        f'<input type="number" id="fault-{esc(name)}" name="{esc(name)}" min="0"{limit}'
        f' step="{step}" value="{value:g}"></div>'
    )


def _faults(sim: Simulator) -> str:
    faults = sim.faults
    paths = "\n".join(sorted(faults.paths)) if faults.paths is not None else ""
    checked = " checked" if faults.include_token else ""
    controls = (
        '<div class="form-grid">'
        + _number_input("latency", "Latency (s)", faults.latency, step="0.01")
        + _number_input("jitter", "Jitter (s)", faults.jitter, step="0.01")
        + _number_input(
            "errorRate", "5xx error rate (0-1)", faults.error_rate, step="0.01", maximum="1"
        )
        + _number_input(
            "dropRate",
            "Drop answers after acting (0-1)",
            faults.drop_rate,
            step="0.01",
            maximum="1",
        )
        + _number_input(
            "dropCallbacks", "Drop callbacks (0-1)", faults.drop_callbacks, step="0.01", maximum="1"
        )
        + '<div class="check"><input type="checkbox" id="fault-includeToken" name="includeToken"'
        f' value="on"{checked}> <label for="fault-includeToken">Also fault the token endpoint'
        "</label></div>"
        '<div class="wide"><label for="fault-paths">Only these API paths (one per line; empty ='
        f' all)</label><textarea id="fault-paths" name="paths" rows="2">{esc(paths)}</textarea>'
        '</div><input type="hidden" name="form" value="faults"></div>'
    )
    apply = action_form(
        "/_simulator/faults",
        "Apply to the next calls",
        element_id="fault-apply",
        css="primary",
        extra_html=controls,
    )
    reset = action_form(
        "/_simulator/faults",
        "Reset all to 0",
        element_id="fault-reset",
        fields={"form": "faults", "includeToken": "on"},
    )
    pending = sim.fault_plan.pending_shots
    return (
        '<section class="card" id="faults"><h2>Fault knobs</h2>'
        '<p class="muted">Apply to API calls from now on (never to these pages). A 5xx is'
        " answered before acting; a dropped answer comes after the request was processed.</p>"
        f'<div id="faults-form">{apply}</div><div class="actions">{reset}</div>'
        f'<p class="muted" id="pending-injections">One-shot faults queued: {pending}</p>'
        "</section>"
    )


def _knob(form: dict[str, str], name: str) -> float:
    """One number of the fault form (empty = 0); NaN or infinity is a ``ValueError``."""
    value = float(form.get(name) or 0)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return value


def faults_from_form(form: dict[str, str]) -> Faults:
    """The console's fault form as :class:`Faults` (unchecked box = off, paths one per line);
    raises ``ValueError`` on a bad number."""
    paths = [p.strip() for p in form.get("paths", "").replace(",", "\n").splitlines()]
    chosen: Any = frozenset(p for p in paths if p) or None
    return Faults(
        latency=_knob(form, "latency"),
        jitter=_knob(form, "jitter"),
        error_rate=_knob(form, "errorRate"),
        drop_rate=_knob(form, "dropRate"),
        drop_callbacks=_knob(form, "dropCallbacks"),
        paths=chosen,
        include_token=form.get("includeToken") in {"on", "true", "1"},
    )


def _pem_block(element_id: str, pem: str) -> str:
    return (
        f'<pre class="pem" id="{esc(element_id)}">{esc(pem.strip())}</pre>'
        f'<button type="button" class="small" data-copy="{esc(element_id)}">Copy</button>'
    )


def _merchant(index: int, account: MerchantAccount) -> str:
    # Only what the merchant may paste into its own config: never the client secret (HMAC key)
    # or the merchant's private key.
    suffix = "" if index == 0 else f"-{index}"
    rows = [
        (
            "Client key (X-CLIENT-KEY)",
            f'<code id="client-key{suffix}">{esc(account.client_key)}</code>',
        ),
        ("Partner id (X-PARTNER-ID)", f"<code>{esc(account.client_key)}</code>"),
        ("Client secret", '<span class="muted">not shown (you hold it)</span>'),
        ("Callback URL", esc(account.callback_url or "(none: requests name NOTIFICATION)")),
        ("SNAP VA base URL", esc(account.va_snap_base_url or "(none: VA uses notify)")),
    ]
    merchant_pem = public_pem(account.public_key).decode("ascii")
    return (
        f"<h3>Merchant {esc(account.client_key)}</h3>{kv_table(rows)}"
        f'<p class="muted">Merchant public key (registered with Ayolinx)</p>'
        f"{_pem_block('merchant-public-pem' + suffix, merchant_pem)}"
    )


def _credentials(sim: Simulator) -> str:
    merchants = "".join(_merchant(i, account) for i, account in enumerate(sim.merchants))
    return (
        '<section class="card" id="credentials"><h2>Credentials</h2>'
        '<p class="muted">Base URL for the SDK: this server. Ayolinx public key (verifies'
        ' callbacks; also at <a href="/_simulator/keys/ayolinx-public.pem">'
        "ayolinx-public.pem</a>)</p>"
        f"{_pem_block('ayolinx-public-pem', sim.ayolinx_public_pem.decode('ascii'))}"
        f"{merchants}</section>"
    )


def console_page(sim: Simulator, *, rows: int = CONSOLE_ROWS) -> bytes:
    """The console's front page, the newest ``rows`` transactions in its table."""
    body = (
        "<h1>Console</h1>"
        f"{_transactions(sim, rows)}"
        f'<div class="grid">{_faults(sim)}{_credentials(sim)}</div>'
    )
    return page("Console", body, version=state_version(sim), body_id="console")

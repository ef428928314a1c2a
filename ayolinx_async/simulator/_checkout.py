"""The payer's checkout page, ``GET /_simulator/checkout/{ref}``: what each product shows a payer.

QRIS: the code as an inline SVG (``[qr]`` extra) and its raw string; VA: bank, number, amount;
retail: store and payment code; DANA: the wallet's redirect page; payment link: items and the
channels to choose. Pay / Fail / Expire are plain POST forms, so the page works without JS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from .._endpoints import PaymentProduct
from ._html import action_form, amount_text, esc, kv_table, page, status_badge, when
from ._ledger import Transaction

__all__ = ["checkout_page", "pay_return_url", "qr_svg", "transaction_path"]

_TITLES: Mapping[PaymentProduct, str] = {
    PaymentProduct.QRIS: "Scan to pay with QRIS",
    PaymentProduct.VIRTUAL_ACCOUNT: "Pay by bank transfer",
    PaymentProduct.RETAIL: "Pay at the store",
    PaymentProduct.EWALLET: "DANA",
    PaymentProduct.PAYMENT_LINK: "Payment link",
}


def transaction_path(txn: Transaction) -> str:
    """``/_simulator/transactions/{ref}``, the reference quoted for a URL."""
    return f"/_simulator/transactions/{quote(txn.reference_no, safe='')}"


def pay_return_url(txn: Transaction) -> str | None:
    """Where the payer goes after paying: the order's ``PAY_RETURN`` URL (any product whose
    create carried ``urlParams``), only if it is a plain http(s) URL, quoted for a header."""
    url = txn.details.get("payReturnUrl")
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def qr_svg(content: str) -> str | None:
    """The QR code as inline SVG markup, or None without the ``[qr]`` extra (segno)."""
    try:
        import segno
    except ImportError:
        return None
    svg: str = segno.make(content, error="m").svg_inline(scale=4, border=2, title="QRIS code")
    return svg


def _copyable(element_id: str, value: str, *, css: str, open_: bool) -> str:
    button = (
        f' <button type="button" class="small" data-copy="{esc(element_id)}">Copy</button>'
        if open_
        else ""
    )
    return f'<span id="{esc(element_id)}" class="{esc(css)}">{esc(value)}</span>{button}'


def _qris(txn: Transaction) -> str:
    content = str(txn.details.get("qrContent", ""))
    if txn.is_final:
        return ""
    svg = qr_svg(content)
    image = (
        f'<div id="qr" role="img" aria-label="QRIS code">{svg}</div>'
        if svg is not None
        else '<p class="notice" id="qr-missing">No QR image: install the <code>[qr]</code> extra'
        " (segno). The raw QRIS string below is what a wallet would scan.</p>"
    )
    raw = (
        '<p class="muted">QRIS string</p><pre class="qr-string">'
        f"{_copyable('qr-string', content, css='mono', open_=True)}</pre>"
    )
    return image + raw


def _virtual_account(txn: Transaction) -> str:
    data = txn.details.get("virtualAccountData")
    data = data if isinstance(data, Mapping) else {}
    bank = txn.channel.removeprefix("VIRTUAL_ACCOUNT_").replace("_", " ")
    number = str(data.get("virtualAccountNo", "")).strip()
    rows = [
        ("Bank", f'<span id="va-bank">{esc(bank)}</span>'),
        ("Account name", esc(data.get("virtualAccountName", ""))),
        ("Channel", esc(txn.channel)),
    ]
    return (
        '<p class="muted">Virtual account number</p>'
        f"{_copyable('va-number', number, css='big-number', open_=not txn.is_final)}"
        f"{kv_table(rows)}"
    )


def _retail(txn: Transaction) -> str:
    store = txn.channel.removeprefix("RETAIL_").replace("_", " ").title()
    rows = [
        ("Store", f'<span id="store">{esc(store)}</span>'),
        ("Customer", esc(txn.details.get("customerName", ""))),
        ("Channel", esc(txn.channel)),
    ]
    code = str(txn.details.get("vaNumber", ""))
    return (
        f'<p class="muted">Show this payment code at the {esc(store)} cashier</p>'
        f"{_copyable('payment-code', code, css='big-number', open_=not txn.is_final)}"
        f"{kv_table(rows)}"
    )


def _ewallet(txn: Transaction) -> str:
    return (
        '<div class="wallet" id="wallet"><strong>DANA</strong> · simulated wallet page'
        f'<div class="muted">Channel {esc(txn.channel)}: the payer confirms in the wallet'
        "</div></div>"
    )


def _return_note(txn: Transaction) -> str:
    """Where Pay leads, for an open order that named a ``PAY_RETURN`` URL."""
    back = pay_return_url(txn)
    if back is None or txn.is_final:
        return ""
    return (
        f'<p class="muted" id="return-note">After paying you return to <code>{esc(back)}</code></p>'
    )


def _items(txn: Transaction) -> str:
    items = txn.details.get("listItem")
    if not isinstance(items, list) or not items:
        return ""
    rows = "".join(
        f'<tr class="item"><td class="item-name">{esc(item.get("name"))}</td>'
        f'<td class="num">{esc(item.get("qty"))}</td>'
        f'<td class="num">{esc(_rupiah(item.get("price")))}</td></tr>'
        for item in items
        if isinstance(item, Mapping)
    )
    return (
        '<table id="items"><thead><tr><th>Item</th><th class="num">Qty</th>'
        f'<th class="num">Price</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _rupiah(value: Any) -> str:
    try:
        return f"{int(str(value)):,}"
    except ValueError:
        return str(value)


def _link(txn: Transaction) -> str:
    rows = [("Customer", esc(txn.details.get("customerName") or ""))]
    if txn.details.get("description"):
        rows.append(("Description", esc(txn.details["description"])))
    if txn.paid_channel:
        rows.append(("Paid with", f'<span id="paid-channel">{esc(txn.paid_channel)}</span>'))
    return _items(txn) + kv_table(rows)


def _channel_choice(txn: Transaction) -> str:
    """Radio buttons for the channels a payment link offers (inside the Pay form)."""
    offered = txn.details.get("listPaymentChannel") or [txn.channel]
    choices = "".join(
        f'<label class="channel-choice"><input type="radio" name="channel" value="{esc(ch)}"'
        f"{' checked' if index == 0 else ''}> {esc(ch)}</label>"
        for index, ch in enumerate(offered)
    )
    return f'<fieldset id="channels"><legend>Pay with</legend>{choices}</fieldset>'


def payer_actions(txn: Transaction, *, return_to: str | None = None) -> str:
    """Pay / Fail / Expire forms for an open transaction (nothing once it is final)."""
    if txn.is_final:
        return ""
    base = transaction_path(txn)
    fields = {"returnTo": return_to} if return_to else None
    extra = ""
    if txn.product is PaymentProduct.PAYMENT_LINK:
        extra = _channel_choice(txn)
    elif txn.amount == 0:
        extra = (
            '<label for="pay-amount">Amount paid (IDR)</label>'
            '<input type="number" id="pay-amount" name="amount" min="1" value="10000" required>'
        )
    pay = action_form(
        f"{base}/pay", "Pay", element_id="pay", css="primary", fields=fields, extra_html=extra
    )
    fail = action_form(f"{base}/fail", "Fail", element_id="fail", css="danger", fields=fields)
    expire = action_form(f"{base}/expire", "Expire", element_id="expire", fields=fields)
    return f'<div class="actions" id="actions">{pay}{fail}{expire}</div>'


def _expiry(txn: Transaction) -> str:
    if txn.expires_at is None or txn.is_final:
        return ""
    return (
        f'<p class="muted">Pay before {esc(when(txn.expires_at))} (Jakarta) · '
        f'<span id="expires" class="countdown" data-expires="{int(txn.expires_at)}">'
        f"until {esc(when(txn.expires_at))}</span></p>"
    )


def _result(txn: Transaction) -> str:
    if not txn.is_final:
        return ""
    back = pay_return_url(txn)
    link = f' <a id="return-link" href="{esc(back)}">Back to the merchant</a>' if back else ""
    return f'<p id="result">This payment is {status_badge(txn.status, txn.status_desc)}.{link}</p>'


_BLOCKS = {
    PaymentProduct.QRIS: _qris,
    PaymentProduct.VIRTUAL_ACCOUNT: _virtual_account,
    PaymentProduct.RETAIL: _retail,
    PaymentProduct.EWALLET: _ewallet,
    PaymentProduct.PAYMENT_LINK: _link,
}


def checkout_page(txn: Transaction, version: int) -> bytes:
    """The whole payer page for ``txn``."""
    block = _BLOCKS.get(txn.product, lambda _: "")(txn)
    console = f"/_simulator/console/transactions/{quote(txn.reference_no, safe='')}"
    summary = kv_table(
        [
            (
                "Merchant reference",
                f'<span id="partner-ref">{esc(txn.partner_reference_no)}</span>',
            ),
            ("Reference", f'<span class="mono">{esc(txn.reference_no)}</span>'),
            ("Product", esc(txn.product.value)),
            ("Status", status_badge(txn.status, txn.status_desc, element_id="status")),
        ]
    )
    body = (
        f'<section class="card" id="checkout" data-live data-product="{esc(txn.product.value)}">'
        f"<h1>{esc(_TITLES.get(txn.product, 'Checkout'))}</h1>"
        f'<div class="pay-amount" id="amount">{esc(amount_text(txn))}</div>'
        f"{_expiry(txn)}{block}{summary}{_return_note(txn)}{_result(txn)}{payer_actions(txn)}"
        "</section>"
        f'<p class="muted"><a href="{esc(console)}">Open in the console</a></p>'
    )
    return page(f"Checkout {txn.partner_reference_no}", body, narrow=True, version=version)

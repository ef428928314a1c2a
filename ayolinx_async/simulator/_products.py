"""The product endpoints (docs/protocol.md §17): validate the body, touch the ledger,
shape the answer.

Each handler returns the response fields after ``responseCode``/``responseMessage`` and the
transaction it created, if any. Authentication has already happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .._endpoints import Endpoint, PaymentProduct
from ._accounts import MerchantAccount
from ._auth import Rejected
from ._codes import Case, Outcome
from ._desk import Desk, Handled, iso_jakarta, money, status_fields
from ._fields import Fields
from ._ledger import Order, Transaction, TransitionRefused
from ._qris import build_qris

__all__ = ["DEFAULT_LINK_CHANNELS", "serve_product"]

# ASCII only ("\d" takes "²", which int() refuses) and \Z (no trailing newline).
_DIGITS = re.compile(r"^[0-9]+\Z")
_PHONE_CC = re.compile(r"^\+[0-9]{1,4}\Z")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_VA_TRX_TYPES = frozenset({"C", "O", "I", "V", "W"})
#: Channels a payment link offers when the request lists none (those of the doc example).
DEFAULT_LINK_CHANNELS = ("BNC_QRIS", "EMONEY_DANA_SNAP", "VIRTUAL_ACCOUNT_BNI")


def _pay_return(urls: Mapping[str, str]) -> dict[str, str]:
    """The ``payReturnUrl`` detail (where the checkout page sends the payer after paying), if the
    request's ``urlParams`` named a ``PAY_RETURN``."""
    return {"payReturnUrl": urls["PAY_RETURN"]} if "PAY_RETURN" in urls else {}


# -- QRIS (docs/protocol.md §17.1-§17.3) ------------------------------------------------


def _read_order(
    f: Fields, now: float, validity: float, *, prefix: str = "", suffix: str = ""
) -> tuple[Order, dict[str, str]]:
    """The order of a QRIS generate or DANA payment, and its ``urlParams``: both read the same
    fields in the same order, and an absent ``validUpTo`` means ``now + validity``."""
    reference = f.required_text("partnerReferenceNo")
    amount = f.required_amount("amount")
    channel = f.required_channel(prefix=prefix, suffix=suffix)
    urls = f.url_params()
    valid_until = f.moment("validUpTo")
    if valid_until is not None and valid_until <= now:
        raise f.fail(Case.INVALID_FORMAT, "validUpTo")
    order = Order(
        partner_reference_no=reference,
        amount=amount,
        channel=channel,
        expires_at=valid_until if valid_until is not None else now + validity,
        notify_url=urls.get("NOTIFICATION"),
    )
    return order, urls


def _qr_generate(
    desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str
) -> Handled:
    order, urls = _read_order(f, now, desk.settings.qr_validity, suffix="_QRIS")
    desk.unique(account, PaymentProduct.QRIS, order.partner_reference_no, f, "partnerReferenceNo")
    ayolinx_ref = desk.new_reference(now)
    qr = build_qris(
        amount=order.amount[0],
        merchant_pan="93600" + desk.digits(14),
        merchant_id=desk.digits(15),
        nmid="ID" + desk.digits(13),
        bill_number=order.partner_reference_no,
    )
    # No Ayolinx reference in this answer (docs/protocol.md §17.1); expiredDate is
    # "seconds timestamp".
    return desk.create(
        Endpoint.QRIS_GENERATE,
        account,
        order,
        now,
        reference_no=ayolinx_ref,
        details={"qrContent": qr, **_pay_return(urls)},
        answer={
            "partnerReferenceNo": order.partner_reference_no,
            "qrContent": qr,
            "expiredDate": str(int(order.expires_at)),
        },
    )


def _qr_cancel(desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
    txn = desk.lookup(account, PaymentProduct.QRIS, f, channel_required=False)
    f.text("reason", required=False, max_len=256)
    try:
        txn = desk.ledger.move(txn.reference_no, "05", now)
    except TransitionRefused:
        raise Rejected(
            Outcome.failure(
                Case.NOT_PERMITTED,
                Endpoint.QRIS_CANCEL.service_code,
                f"Transaction is {txn.status} ({txn.status_desc})",
            )
        ) from None
    return Handled(
        outcome=Outcome.success(Endpoint.QRIS_CANCEL),
        fields={
            "originalPartnerReferenceNo": txn.partner_reference_no,
            "originalReferenceNo": txn.reference_no,
            "latestTransactionStatus": txn.status,
            "cancelTime": iso_jakarta(now),
            "transactionDate": iso_jakarta(txn.created_at),
        },
    )


# -- DANA e-wallet (docs/protocol.md §17.4-§17.5) ---------------------------------------


def _dana_payment(
    desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str
) -> Handled:
    order, urls = _read_order(f, now, desk.settings.ewallet_validity, prefix="EMONEY_")
    desk.unique(
        account, PaymentProduct.EWALLET, order.partner_reference_no, f, "partnerReferenceNo"
    )
    ayolinx_ref = desk.new_reference(now)
    redirect = desk.checkout_url(origin, ayolinx_ref)
    details: dict[str, Any] = {"webRedirectUrl": redirect, **_pay_return(urls)}
    return desk.create(
        Endpoint.EWALLET_PAYMENT,
        account,
        order,
        now,
        reference_no=ayolinx_ref,
        details=details,
        answer={
            "referenceNo": ayolinx_ref,
            "partnerReferenceNo": order.partner_reference_no,
            "webRedirectUrl": redirect,
        },
    )


# -- Virtual accounts (docs/protocol.md §17.6-§17.7) ------------------------------------


def _va_create(desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
    service_id = f.required_text("partnerServiceId", max_len=8)
    if not _DIGITS.match(service_id.strip()):
        raise f.fail(Case.INVALID_FORMAT, "partnerServiceId")
    customer_no = f.required_text("customerNo", max_len=20, pattern=_DIGITS)
    va_no = f.text("virtualAccountNo", required=False, max_len=28)
    name = f.required_text("virtualAccountName", max_len=255)
    trx_id = f.required_text("trxId")
    trx_type = f.text("virtualAccountTrxType", required=False, max_len=1) or "C"
    if trx_type not in _VA_TRX_TYPES:
        raise f.fail(Case.INVALID_FORMAT, "virtualAccountTrxType")
    amount = f.amount("totalAmount", required=trx_type == "C")
    expired = f.moment("expiredDate", unix=False)
    channel = f.required_channel(prefix="VIRTUAL_ACCOUNT_")
    email = f.text("virtualAccountEmail", required=False, max_len=255)
    phone = f.text("virtualAccountPhone", required=False, max_len=30)
    f.url_params()
    expected = service_id.strip() + customer_no
    if va_no is not None and va_no.replace(" ", "") != expected:
        raise f.fail(Case.INVALID_FORMAT, "virtualAccountNo")
    va_no = va_no or expected
    if expired is not None and expired <= now:
        raise f.fail(Case.INVALID_FORMAT, "expiredDate")
    desk.unique(account, PaymentProduct.VIRTUAL_ACCOUNT, trx_id, f, "trxId")
    expires = expired if expired is not None else now + desk.settings.va_validity
    value, currency = amount if amount is not None else (Decimal("0"), "IDR")
    data: dict[str, Any] = {
        "partnerServiceId": service_id,
        "customerNo": customer_no,
        "virtualAccountNo": va_no,
        "virtualAccountName": name,
    }
    if email:
        data["virtualAccountEmail"] = email
    if phone:
        data["virtualAccountPhone"] = phone
    data["trxId"] = trx_id
    if amount is not None:
        data["totalAmount"] = money(value, currency)
    data["virtualAccountTrxType"] = trx_type
    data["expiredDate"] = iso_jakarta(expires)
    data["additionalInfo"] = {"channel": channel}
    # VA callbacks go to the merchant's configured URL: urlParams is checked, never used.
    order = Order(
        partner_reference_no=trx_id,
        amount=(value, currency),
        channel=channel,
        expires_at=expires,
        notify_url=None,
    )
    return desk.create(
        Endpoint.VA_CREATE,
        account,
        order,
        now,
        reference_no=desk.new_reference(now),
        details={"virtualAccountData": data},
        answer={"virtualAccountData": data},
    )


# -- Retail (docs/protocol.md §17.8-§17.9) ----------------------------------------------


def _retail_create(
    desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str
) -> Handled:
    reference = f.required_text("partnerReferenceNo")
    valid_until = f.required_moment("validUpTo")
    customer = f.required_text("customerName", max_len=255)
    email = f.required_text("customerEmail", max_len=255, pattern=_EMAIL)
    phone = f.text("customerPhone", required=False, max_len=30)
    amount = f.required_amount("amount")
    urls = f.url_params()
    channel = f.required_channel(prefix="RETAIL_")
    if valid_until <= now:
        raise f.fail(Case.INVALID_FORMAT, "validUpTo")
    desk.unique(account, PaymentProduct.RETAIL, reference, f, "partnerReferenceNo")
    ayolinx_ref = desk.new_reference(now)
    payment_code = desk.digits(16)
    payment_url = desk.checkout_url(origin, ayolinx_ref)
    order = Order(
        partner_reference_no=reference,
        amount=amount,
        channel=channel,
        expires_at=valid_until,
        notify_url=urls.get("NOTIFICATION"),
    )
    return desk.create(
        Endpoint.RETAIL_CREATE,
        account,
        order,
        now,
        reference_no=ayolinx_ref,
        details={
            "vaNumber": payment_code,
            "paymentUrl": payment_url,
            "customerName": customer,
            "customerEmail": email,
            "customerPhone": phone,
            **_pay_return(urls),
        },
        answer={
            "partnerReferenceNo": reference,
            "expiryDate": iso_jakarta(valid_until),
            "vaNumber": payment_code,
            "paymentUrl": payment_url,
        },
    )


# -- Payment link (docs/protocol.md §17.10) ---------------------------------------------


def _link_create(
    desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str
) -> Handled:
    # No field table was readable for this endpoint (docs/protocol.md §17.10): only the reference
    # and the items are insisted on; everything else is checked when present.
    reference = f.required_text("partnerReferenceNo")
    customer = f.text("customerName", required=False, max_len=255)
    email = f.text("customerEmail", required=False, max_len=255, pattern=_EMAIL)
    phone = f.text("customerPhoneNumber", required=False, max_len=20, pattern=_DIGITS)
    phone_cc = f.text(
        "customerPhoneNumberCountryCode", required=False, max_len=5, pattern=_PHONE_CC
    )
    items = f.items("listItem")
    channels = (
        f.strings("listPaymentChannel")
        if f.raw("listPaymentChannel") is not None
        else list(DEFAULT_LINK_CHANNELS)
    )
    description = f.raw("description")
    if description is not None and not isinstance(description, str):
        raise f.fail(Case.INVALID_FORMAT, "description")
    expiry = f.moment("expiryTime", unix=False)
    if expiry is None:
        expiry = now + desk.settings.link_validity
    urls = f.url_params()
    if expiry <= now:
        raise f.fail(Case.INVALID_FORMAT, "expiryTime")
    total = Decimal(0)
    for index, item in enumerate(items):
        for key, pattern in (("name", None), ("price", _DIGITS), ("qty", _DIGITS)):
            value = item.get(key)
            where = f"listItem[{index}].{key}"
            if value is None or value == "":
                raise f.fail(Case.MISSING_FIELD, where)
            if not isinstance(value, str) or len(value) > 255:
                raise f.fail(Case.INVALID_FORMAT, where)
            if pattern is not None and not pattern.match(value):
                raise f.fail(Case.INVALID_FORMAT, where)
        qty = int(item["qty"])
        if qty < 1:
            raise f.fail(Case.INVALID_FORMAT, f"listItem[{index}].qty")
        total += Decimal(item["price"]) * qty
    if total <= 0:
        raise f.fail(Case.INVALID_FORMAT, "listItem")
    desk.unique(account, PaymentProduct.PAYMENT_LINK, reference, f, "partnerReferenceNo")
    link_id = desk.new_link_id()
    link = desk.checkout_url(origin, link_id)
    order = Order(
        partner_reference_no=reference,
        amount=(total, "IDR"),
        channel=channels[0],
        expires_at=expiry,
        notify_url=urls.get("NOTIFICATION"),
    )
    shown = expiry - 7 * 3600 if desk.settings.link_expiry_quirk else expiry
    return desk.create(
        Endpoint.PAYMENT_LINK_CREATE,
        account,
        order,
        now,
        reference_no=link_id,
        details={
            "paymentLink": link,
            "listPaymentChannel": list(channels),
            "customerName": customer,
            "customerEmail": email,
            "customerPhoneNumber": phone,
            "customerPhoneNumberCountryCode": phone_cc,
            "description": description or "",
            # What the payer page lists, and where it sends the payer after paying.
            "listItem": [{k: item[k] for k in ("name", "price", "qty")} for item in items],
            **_pay_return(urls),
        },
        answer={
            "paymentLink": link,
            # The link id, not the merchant's reference (docs/protocol.md §17.10).
            "partnerReferenceNo": link_id,
            "expiryDate": iso_jakarta(shown),
        },
    )


# -- Status queries (docs/protocol.md §17.2, §17.5, §17.7, §17.9) -----------------------


_Handler = Callable[[Desk, MerchantAccount, Fields, float, str], Handled]


def _no_extra(txn: Transaction) -> dict[str, Any]:
    return {}


def _va_data(txn: Transaction) -> dict[str, Any]:
    data = dict(txn.details["virtualAccountData"])
    if txn.status == "00":
        data["paidAmount"] = money(txn.amount, txn.currency)
    return {"virtualAccountData": data}


def _retail_code(txn: Transaction) -> dict[str, Any]:
    return {"vaNumber": txn.details["vaNumber"]}


def _status_query(
    endpoint: Endpoint,
    *,
    channel_required: bool,
    extra: Callable[[Transaction], dict[str, Any]] = _no_extra,
) -> _Handler:
    """A status query: the common status fields, the product's own, then the channel."""
    product = endpoint.product
    assert product is not None  # every status query belongs to a product

    def query(desk: Desk, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        txn = desk.lookup(account, product, f, channel_required=channel_required)
        fields = {**status_fields(txn), **extra(txn), "additionalInfo": {"channel": txn.channel}}
        return Handled(outcome=Outcome.success(endpoint), fields=fields)

    return query


_HANDLERS: dict[Endpoint, _Handler] = {
    Endpoint.QRIS_GENERATE: _qr_generate,
    Endpoint.QRIS_QUERY: _status_query(Endpoint.QRIS_QUERY, channel_required=False),
    Endpoint.QRIS_CANCEL: _qr_cancel,
    Endpoint.EWALLET_PAYMENT: _dana_payment,
    Endpoint.EWALLET_STATUS: _status_query(Endpoint.EWALLET_STATUS, channel_required=True),
    Endpoint.VA_CREATE: _va_create,
    Endpoint.VA_INQUIRY: _status_query(Endpoint.VA_INQUIRY, channel_required=True, extra=_va_data),
    Endpoint.RETAIL_CREATE: _retail_create,
    Endpoint.RETAIL_QUERY: _status_query(
        Endpoint.RETAIL_QUERY, channel_required=True, extra=_retail_code
    ),
    Endpoint.PAYMENT_LINK_CREATE: _link_create,
}


def serve_product(
    desk: Desk,
    endpoint: Endpoint,
    account: MerchantAccount,
    body: Mapping[str, Any],
    now: float,
    origin: str,
) -> Handled:
    """Dispatch to the endpoint's handler; raises :class:`Rejected` on a bad request."""
    return _HANDLERS[endpoint](desk, account, Fields(body, endpoint), now, origin)

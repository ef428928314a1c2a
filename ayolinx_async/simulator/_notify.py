"""Callback bodies, one builder per channel family (docs/protocol.md §18), plus the SNAP VA payment
body, and the delivery job a status change produces.

Pure functions of a transaction snapshot and a few generated numbers, so they are easy to test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .._endpoints import CallbackPath, PaymentProduct
from .._wire import JAKARTA
from ._accounts import MerchantAccount
from ._asgi import encode_json
from ._delivery import Delivery, DeliveryKind, DeliveryState, Job
from ._desk import iso_jakarta, money
from ._ledger import Transaction

__all__ = [
    "PayerDetails",
    "callback_family",
    "callback_job",
    "notification_body",
    "snap_va_payment_body",
]

#: MDR the simulator charges on QRIS payments (0.7 %, the usual QRIS rate), for ``feeMoney``.
_QRIS_MDR = Decimal("0.007")


@attrs.frozen(kw_only=True, slots=True)
class PayerDetails:
    """Numbers a real acquirer would fill in; generated per payment from the seeded RNG."""

    rrn: str
    payment_ntb: str
    customer_number: str
    payment_request_id: str
    user_name: str = "SIMULATED PAYER"
    bank_code: str = "014"
    bank_name: str = "BCA"

    @classmethod
    def draw(cls, digits: Callable[[int], str]) -> PayerDetails:
        """Fresh numbers from ``digits`` (the simulator's seeded generator)."""
        return cls(
            rrn=digits(12),
            payment_ntb=digits(12),
            customer_number="62812" + digits(8),
            payment_request_id=digits(20),
        )


def callback_family(channel: str) -> PaymentProduct:
    """Which notify format a channel uses (a payment link pays through one of these)."""
    if channel.endswith("_QRIS"):
        return PaymentProduct.QRIS
    if channel.startswith("VIRTUAL_ACCOUNT_"):
        return PaymentProduct.VIRTUAL_ACCOUNT
    if channel.startswith("RETAIL_"):
        return PaymentProduct.RETAIL
    return PaymentProduct.EWALLET


def _finished(txn: Transaction, now: float) -> str:
    return iso_jakarta(txn.finished_at if txn.finished_at is not None else now)


def _qris(
    txn: Transaction, channel: str, reference: str, payer: PayerDetails, now: float
) -> dict[str, Any]:
    paid = txn.status == "00"
    fee = (txn.amount * _QRIS_MDR).quantize(Decimal("0.01")) if paid else Decimal(0)
    settle = datetime.fromtimestamp(int(now), JAKARTA).date().isoformat()
    return {
        "callbackType": "QRIS",
        "originalPartnerReferenceNo": txn.partner_reference_no,
        "originalReferenceNo": reference,
        "latestTransactionStatus": txn.status,
        "amount": money(txn.amount, txn.currency),
        "customerNumber": payer.customer_number,
        "finishedTime": _finished(txn, now),
        "additionalInfo": {
            "channel": channel,
            "bankCode": payer.bank_code,
            "bankName": payer.bank_name,
            "errorCode": "" if paid else txn.status_desc.upper(),
            "feeMoney": money(fee, txn.currency),
            "RRN": payer.rrn,
            "trxType": "PAYMENT",
            "userName": payer.user_name,
            "paymentNtb": payer.payment_ntb,
            "settleDate": settle,
        },
    }


def _ewallet(
    txn: Transaction, channel: str, reference: str, payer: PayerDetails, now: float
) -> dict[str, Any]:
    return {
        "originalPartnerReferenceNo": txn.partner_reference_no,
        "originalReferenceNo": reference,
        "latestTransactionStatus": txn.status,
        "transactionStatusDesc": txn.status_desc,
        "amount": money(txn.amount, txn.currency),
        "finishedTime": _finished(txn, now),
        "additionalInfo": {"channel": channel},
    }


def _virtual_account(
    txn: Transaction, channel: str, reference: str, payer: PayerDetails, now: float
) -> dict[str, Any]:
    info: dict[str, Any] = {"channel": channel}
    data = txn.details.get("virtualAccountData")
    if isinstance(data, dict):
        info["virtualAccountNo"] = data["virtualAccountNo"]
    info["paymentNtb"] = payer.payment_ntb
    return {
        "originalPartnerReferenceNo": txn.partner_reference_no,
        "originalReferenceNo": reference,
        "latestTransactionStatus": txn.status,
        "amount": money(txn.amount, txn.currency),
        "finishedTime": _finished(txn, now),
        "additionalInfo": info,
    }


def _retail(
    txn: Transaction, channel: str, reference: str, payer: PayerDetails, now: float
) -> dict[str, Any]:
    info: dict[str, Any] = {"channel": channel}
    if "vaNumber" in txn.details:
        info["vaNumber"] = txn.details["vaNumber"]
    # Field order of the documented example (docs/protocol.md §18.2): amount first.
    return {
        "amount": money(txn.amount, txn.currency),
        "originalReferenceNo": reference,
        "latestTransactionStatus": txn.status,
        "originalPartnerReferenceNo": txn.partner_reference_no,
        "finishedTime": _finished(txn, now),
        "additionalInfo": info,
    }


_BUILDERS: dict[
    PaymentProduct, Callable[[Transaction, str, str, PayerDetails, float], dict[str, Any]]
] = {
    PaymentProduct.QRIS: _qris,
    PaymentProduct.EWALLET: _ewallet,
    PaymentProduct.VIRTUAL_ACCOUNT: _virtual_account,
    PaymentProduct.RETAIL: _retail,
}


def notification_body(txn: Transaction, payer: PayerDetails, now: float) -> dict[str, Any]:
    """The non-SNAP notify body for ``txn``'s current status.

    Payment links use the format of the channel the payer chose, their own payment reference as
    ``originalReferenceNo`` and add ``additionalInfo.plh`` = the link id (docs/protocol.md §18.5).
    """
    if txn.product is PaymentProduct.PAYMENT_LINK:
        channel = txn.paid_channel or txn.channel
        reference = str(txn.details.get("paymentReferenceNo") or txn.reference_no)
        body = _BUILDERS[callback_family(channel)](txn, channel, reference, payer, now)
        body["additionalInfo"]["plh"] = txn.reference_no
        return body
    return _BUILDERS[txn.product](txn, txn.channel, txn.reference_no, payer, now)


def snap_va_payment_body(txn: Transaction, payer: PayerDetails, now: float) -> dict[str, Any]:
    """The SNAP ``POST /v1.0/transfer-va/payment`` body Ayolinx sends a merchant
    (docs/protocol.md §18.4)."""
    data = dict(txn.details["virtualAccountData"])
    paid_at = txn.finished_at if txn.finished_at is not None else now
    return {
        "partnerServiceId": data["partnerServiceId"],
        "customerNo": data["customerNo"],
        "virtualAccountNo": data["virtualAccountNo"],
        "virtualAccountName": data["virtualAccountName"],
        "trxId": txn.partner_reference_no,
        "paymentRequestId": payer.payment_request_id,
        "paidAmount": money(txn.amount, txn.currency),
        "virtualAccountTrxType": data.get("virtualAccountTrxType", "C"),
        "additionalInfo": {
            "paymentTimeIso8601": iso_jakarta(paid_at),
            "paymentNtb": payer.payment_ntb,
            "channel": txn.channel,
        },
    }


def callback_job(
    txn: Transaction,
    account: MerchantAccount,
    *,
    now: float,
    next_id: Callable[[], str],
    digits: Callable[[int], str],
) -> Job | None:
    """The callback a status change produces, or None (no URL configured, or a SNAP VA
    merchant and a status other than paid: that flow only reports payments)."""
    build: Callable[[Transaction, PayerDetails, float], dict[str, Any]]
    token_url: str | None = None
    if txn.product is PaymentProduct.VIRTUAL_ACCOUNT and account.va_snap_base_url:
        if txn.status != "00":
            return None
        base = account.va_snap_base_url.rstrip("/")
        kind, build = DeliveryKind.SNAP_VA, snap_va_payment_body
        url, token_url = base + CallbackPath.SNAP_VA_PAYMENT, base + CallbackPath.MERCHANT_TOKEN
    else:
        notify_url = txn.notify_url or account.callback_url
        if notify_url is None:
            return None
        kind, build, url = DeliveryKind.NOTIFY, notification_body, notify_url
    job_id = next_id()  # drawn before the payer's numbers, as the seeded sequence expects
    delivery = Delivery(
        id=job_id,
        reference_no=txn.reference_no,
        partner_reference_no=txn.partner_reference_no,
        kind=kind,
        url=url,
        latest_status=txn.status,
        body=encode_json(build(txn, PayerDetails.draw(digits), now)),
        state=DeliveryState.PENDING,
        attempts=(),
    )
    return Job(delivery=delivery, account=account, token_url=token_url)

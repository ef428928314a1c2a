"""Callback bodies, one builder per channel family (spec §12), plus the SNAP VA payment body.

Pure functions of a transaction snapshot and a few generated numbers, so they are easy to test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .._wire import JAKARTA
from ._ledger import Product, Transaction
from ._products import iso_jakarta, money

__all__ = [
    "PayerDetails",
    "callback_family",
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


def callback_family(channel: str) -> Product:
    """Which notify format a channel uses (a payment link pays through one of these)."""
    if channel.endswith("_QRIS"):
        return Product.QRIS
    if channel.startswith("VIRTUAL_ACCOUNT_"):
        return Product.VIRTUAL_ACCOUNT
    if channel.startswith("RETAIL_"):
        return Product.RETAIL
    return Product.EWALLET


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
    # Field order of the documented example (spec §12.2): amount first.
    return {
        "amount": money(txn.amount, txn.currency),
        "originalReferenceNo": reference,
        "latestTransactionStatus": txn.status,
        "originalPartnerReferenceNo": txn.partner_reference_no,
        "finishedTime": _finished(txn, now),
        "additionalInfo": info,
    }


_BUILDERS: dict[Product, Callable[[Transaction, str, str, PayerDetails, float], dict[str, Any]]] = {
    Product.QRIS: _qris,
    Product.EWALLET: _ewallet,
    Product.VIRTUAL_ACCOUNT: _virtual_account,
    Product.RETAIL: _retail,
}


def notification_body(txn: Transaction, payer: PayerDetails, now: float) -> dict[str, Any]:
    """The non-SNAP notify body for ``txn``'s current status.

    Payment links use the format of the channel the payer chose, their own payment reference as
    ``originalReferenceNo`` and add ``additionalInfo.plh`` = the link id (spec §12.5).
    """
    if txn.product is Product.PAYMENT_LINK:
        channel = txn.paid_channel or txn.channel
        reference = str(txn.details.get("paymentReferenceNo") or txn.reference_no)
        body = _BUILDERS[callback_family(channel)](txn, channel, reference, payer, now)
        body["additionalInfo"]["plh"] = txn.reference_no
        return body
    return _BUILDERS[txn.product](txn, txn.channel, txn.reference_no, payer, now)


def snap_va_payment_body(txn: Transaction, payer: PayerDetails, now: float) -> dict[str, Any]:
    """The SNAP ``POST /v1.0/transfer-va/payment`` body Ayolinx sends a merchant (§12.4)."""
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

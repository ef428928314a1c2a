"""The product endpoints (spec §11): validate the body, touch the ledger, shape the answer.

Each handler returns the response fields after ``responseCode``/``responseMessage`` and the
transaction it created, if any. Authentication has already happened.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._wire import JAKARTA
from ._accounts import MerchantAccount
from ._auth import Rejected
from ._codes import Case, Endpoint, Outcome
from ._fields import Fields
from ._ledger import Ledger, Product, Transaction, TransitionRefused
from ._qris import build_qris

__all__ = ["Desk", "ProductSettings", "Handled", "iso_jakarta", "money", "parse_admin_amount"]

# ASCII only ("\d" takes "²", which int() refuses) and \Z (no trailing newline).
_DIGITS = re.compile(r"^[0-9]+\Z")
_PHONE_CC = re.compile(r"^\+[0-9]{1,4}\Z")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_VA_TRX_TYPES = frozenset({"C", "O", "I", "V", "W"})
_LINK_ID_ALPHABET = string.ascii_letters + string.digits
#: Channels a payment link offers when the request lists none (those of the doc example).
DEFAULT_LINK_CHANNELS = ("BNC_QRIS", "EMONEY_DANA_SNAP", "VIRTUAL_ACCOUNT_BNI")


def iso_jakarta(epoch: float) -> str:
    """``2025-01-10T11:12:12+07:00``."""
    return datetime.fromtimestamp(int(epoch), JAKARTA).isoformat()


def money(amount: Decimal, currency: str = "IDR") -> dict[str, str]:
    """The wire amount object: ``{"value": "10000.00", "currency": "IDR"}``."""
    return {"value": f"{amount:.2f}", "currency": currency}


@attrs.frozen(kw_only=True, slots=True)
class Handled:
    """A product answer: the outcome, the extra response fields, a new transaction."""

    outcome: Outcome
    fields: dict[str, Any]
    created: Transaction | None = None


@attrs.frozen(kw_only=True, slots=True)
class ProductSettings:
    """Product defaults that the docs leave open (spec §14)."""

    qr_validity: float = 1800.0
    va_validity: float = 86400.0
    ewallet_validity: float = 3600.0
    link_validity: float = 86400.0
    #: Reproduce the payment-link ``expiryDate`` quirk: 7 h early yet labelled +07:00 (§11.10).
    link_expiry_quirk: bool = True


class Desk:
    """Runs product requests against the ledger. Holds no state of its own beyond settings."""

    def __init__(
        self,
        ledger: Ledger,
        rng: random.Random,
        settings: ProductSettings,
    ) -> None:
        self._ledger = ledger
        self._rng = rng
        self._settings = settings
        self._handlers: dict[Endpoint, Callable[[MerchantAccount, Fields, float, str], Handled]] = {
            Endpoint.QR_GENERATE: self._qr_generate,
            Endpoint.QR_QUERY: self._qr_query,
            Endpoint.QR_CANCEL: self._qr_cancel,
            Endpoint.DANA_PAYMENT: self._dana_payment,
            Endpoint.DANA_STATUS: self._dana_status,
            Endpoint.VA_CREATE: self._va_create,
            Endpoint.VA_INQUIRY: self._va_inquiry,
            Endpoint.RETAIL_CREATE: self._retail_create,
            Endpoint.RETAIL_QUERY: self._retail_query,
            Endpoint.PAYMENT_LINK_CREATE: self._link_create,
        }

    # -- shared -----------------------------------------------------------------------------

    def handle(
        self,
        endpoint: Endpoint,
        account: MerchantAccount,
        body: Mapping[str, Any],
        now: float,
        origin: str,
    ) -> Handled:
        """Dispatch to the endpoint's handler; raises :class:`Rejected` on a bad request."""
        return self._handlers[endpoint](account, Fields(body, endpoint), now, origin)

    def digits(self, count: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(count))

    def new_reference(self, now: float) -> str:
        """An Ayolinx-style 35-digit transaction id: Jakarta ``yyyyMMddHHmmss`` + 21 digits."""
        stamp = datetime.fromtimestamp(int(now), JAKARTA).strftime("%Y%m%d%H%M%S")
        return stamp + self.digits(21)

    @staticmethod
    def _checkout_url(origin: str, reference: str) -> str:
        """The simulator's payer page (stands in for DANA, the retail page, the link page)."""
        return f"{origin}/_simulator/checkout/{reference}"

    def _unique(
        self, account: MerchantAccount, product: Product, reference: str, f: Fields, field: str
    ) -> None:
        if self._ledger.has_partner_reference(account.client_key, product, reference):
            raise f.fail(Case.DUPLICATE_REFERENCE, field)

    def _lookup(
        self, account: MerchantAccount, product: Product, f: Fields, *, channel_required: bool
    ) -> Transaction:
        reference = f.required_text("originalPartnerReferenceNo")
        channel = f.channel(required=channel_required)
        txn = self._ledger.find(account.client_key, product, reference)
        if txn is None or (channel is not None and channel != txn.channel):
            raise f.fail(Case.NOT_FOUND)
        return txn

    @staticmethod
    def _status_fields(txn: Transaction) -> dict[str, Any]:
        """What every status query answers (spec §11.2, §11.5, §11.7, §11.9)."""
        fields: dict[str, Any] = {
            "originalPartnerReferenceNo": txn.partner_reference_no,
            "originalReferenceNo": txn.reference_no,
            "latestTransactionStatus": txn.status,
            "transactionStatusDesc": txn.status_desc,
            "amount": money(txn.amount, txn.currency),
        }
        if txn.finished_at is not None:
            fields["finishedTime"] = iso_jakarta(txn.finished_at)
        return fields

    # -- QRIS (§11.1-11.3) ------------------------------------------------------------------

    def _qr_generate(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        reference = f.required_text("partnerReferenceNo")
        amount = f.required_amount("amount")
        channel = f.required_channel(suffix="_QRIS")
        urls = f.url_params()
        valid_until = f.moment("validUpTo")
        if valid_until is not None and valid_until <= now:
            raise f.fail(Case.INVALID_FORMAT, "validUpTo")
        self._unique(account, Product.QRIS, reference, f, "partnerReferenceNo")
        expires = valid_until if valid_until is not None else now + self._settings.qr_validity
        ayolinx_ref = self.new_reference(now)
        qr = build_qris(
            amount=amount[0],
            merchant_pan="93600" + self.digits(14),
            merchant_id=self.digits(15),
            nmid="ID" + self.digits(13),
            bill_number=reference,
        )
        txn = self._ledger.open(
            reference_no=ayolinx_ref,
            partner_reference_no=reference,
            product=Product.QRIS,
            client_key=account.client_key,
            channel=channel,
            amount=amount[0],
            currency=amount[1],
            now=now,
            expires_at=expires,
            notify_url=urls.get("NOTIFICATION"),
            details={"qrContent": qr},
        )
        # No Ayolinx reference in this answer (spec §11.1); expiredDate is "seconds timestamp".
        return Handled(
            outcome=Outcome.success(Endpoint.QR_GENERATE),
            fields={
                "partnerReferenceNo": reference,
                "qrContent": qr,
                "expiredDate": str(int(expires)),
            },
            created=txn,
        )

    def _qr_query(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        txn = self._lookup(account, Product.QRIS, f, channel_required=False)
        fields = self._status_fields(txn)
        fields["additionalInfo"] = {"channel": txn.channel}
        return Handled(outcome=Outcome.success(Endpoint.QR_QUERY), fields=fields)

    def _qr_cancel(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        txn = self._lookup(account, Product.QRIS, f, channel_required=False)
        f.text("reason", required=False, max_len=256)
        try:
            txn = self._ledger.move(txn.reference_no, "05", now)
        except TransitionRefused:
            raise Rejected(
                Outcome.failure(
                    Case.NOT_PERMITTED,
                    Endpoint.QR_CANCEL.service,
                    f"Transaction is {txn.status} ({txn.status_desc})",
                )
            ) from None
        return Handled(
            outcome=Outcome.success(Endpoint.QR_CANCEL),
            fields={
                "originalPartnerReferenceNo": txn.partner_reference_no,
                "originalReferenceNo": txn.reference_no,
                "latestTransactionStatus": txn.status,
                "cancelTime": iso_jakarta(now),
                "transactionDate": iso_jakarta(txn.created_at),
            },
        )

    # -- DANA e-wallet (§11.4-11.5) ---------------------------------------------------------

    def _dana_payment(
        self, account: MerchantAccount, f: Fields, now: float, origin: str
    ) -> Handled:
        reference = f.required_text("partnerReferenceNo")
        amount = f.required_amount("amount")
        channel = f.required_channel(prefix="EMONEY_")
        urls = f.url_params()
        valid_until = f.moment("validUpTo")
        if valid_until is not None and valid_until <= now:
            raise f.fail(Case.INVALID_FORMAT, "validUpTo")
        self._unique(account, Product.EWALLET, reference, f, "partnerReferenceNo")
        ayolinx_ref = self.new_reference(now)
        redirect = self._checkout_url(origin, ayolinx_ref)
        details: dict[str, Any] = {"webRedirectUrl": redirect}
        if "PAY_RETURN" in urls:
            details["payReturnUrl"] = urls["PAY_RETURN"]
        txn = self._ledger.open(
            reference_no=ayolinx_ref,
            partner_reference_no=reference,
            product=Product.EWALLET,
            client_key=account.client_key,
            channel=channel,
            amount=amount[0],
            currency=amount[1],
            now=now,
            expires_at=valid_until or now + self._settings.ewallet_validity,
            notify_url=urls.get("NOTIFICATION"),
            details=details,
        )
        return Handled(
            outcome=Outcome.success(Endpoint.DANA_PAYMENT),
            fields={
                "referenceNo": ayolinx_ref,
                "partnerReferenceNo": reference,
                "webRedirectUrl": redirect,
            },
            created=txn,
        )

    def _dana_status(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        txn = self._lookup(account, Product.EWALLET, f, channel_required=True)
        fields = self._status_fields(txn)
        fields["additionalInfo"] = {"channel": txn.channel}
        return Handled(outcome=Outcome.success(Endpoint.DANA_STATUS), fields=fields)

    # -- Virtual accounts (§11.6-11.7) ------------------------------------------------------

    def _va_create(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
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
        self._unique(account, Product.VIRTUAL_ACCOUNT, trx_id, f, "trxId")
        expires = expired if expired is not None else now + self._settings.va_validity
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
        txn = self._ledger.open(
            reference_no=self.new_reference(now),
            partner_reference_no=trx_id,
            product=Product.VIRTUAL_ACCOUNT,
            client_key=account.client_key,
            channel=channel,
            amount=value,
            currency=currency,
            now=now,
            expires_at=expires,
            notify_url=None,
            details={"virtualAccountData": data},
        )
        return Handled(
            outcome=Outcome.success(Endpoint.VA_CREATE),
            fields={"virtualAccountData": data},
            created=txn,
        )

    def _va_inquiry(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        txn = self._lookup(account, Product.VIRTUAL_ACCOUNT, f, channel_required=True)
        fields = self._status_fields(txn)
        data = dict(txn.details["virtualAccountData"])
        if txn.status == "00":
            data["paidAmount"] = money(txn.amount, txn.currency)
        fields["virtualAccountData"] = data
        fields["additionalInfo"] = {"channel": txn.channel}
        return Handled(outcome=Outcome.success(Endpoint.VA_INQUIRY), fields=fields)

    # -- Retail (§11.8-11.9) ----------------------------------------------------------------

    def _retail_create(
        self, account: MerchantAccount, f: Fields, now: float, origin: str
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
        self._unique(account, Product.RETAIL, reference, f, "partnerReferenceNo")
        ayolinx_ref = self.new_reference(now)
        payment_code = self.digits(16)
        payment_url = self._checkout_url(origin, ayolinx_ref)
        txn = self._ledger.open(
            reference_no=ayolinx_ref,
            partner_reference_no=reference,
            product=Product.RETAIL,
            client_key=account.client_key,
            channel=channel,
            amount=amount[0],
            currency=amount[1],
            now=now,
            expires_at=valid_until,
            notify_url=urls.get("NOTIFICATION"),
            details={
                "vaNumber": payment_code,
                "paymentUrl": payment_url,
                "customerName": customer,
                "customerEmail": email,
                "customerPhone": phone,
            },
        )
        return Handled(
            outcome=Outcome.success(Endpoint.RETAIL_CREATE),
            fields={
                "partnerReferenceNo": reference,
                "expiryDate": iso_jakarta(valid_until),
                "vaNumber": payment_code,
                "paymentUrl": payment_url,
            },
            created=txn,
        )

    def _retail_query(
        self, account: MerchantAccount, f: Fields, now: float, origin: str
    ) -> Handled:
        txn = self._lookup(account, Product.RETAIL, f, channel_required=True)
        fields = self._status_fields(txn)
        fields["vaNumber"] = txn.details["vaNumber"]
        fields["additionalInfo"] = {"channel": txn.channel}
        return Handled(outcome=Outcome.success(Endpoint.RETAIL_QUERY), fields=fields)

    # -- Payment link (§11.10) --------------------------------------------------------------

    def _link_create(self, account: MerchantAccount, f: Fields, now: float, origin: str) -> Handled:
        # No field table was readable for this endpoint (spec §11.10): only the reference and
        # the items are insisted on; everything else is checked when present.
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
            expiry = now + self._settings.link_validity
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
        self._unique(account, Product.PAYMENT_LINK, reference, f, "partnerReferenceNo")
        link_id = "".join(self._rng.choice(_LINK_ID_ALPHABET) for _ in range(11))
        link = self._checkout_url(origin, link_id)
        txn = self._ledger.open(
            reference_no=link_id,
            partner_reference_no=reference,
            product=Product.PAYMENT_LINK,
            client_key=account.client_key,
            channel=channels[0],
            amount=total,
            currency="IDR",
            now=now,
            expires_at=expiry,
            notify_url=urls.get("NOTIFICATION"),
            details={
                "paymentLink": link,
                "listPaymentChannel": list(channels),
                "customerName": customer,
                "customerEmail": email,
                "customerPhoneNumber": phone,
                "customerPhoneNumberCountryCode": phone_cc,
                "description": description or "",
            },
        )
        shown = expiry - 7 * 3600 if self._settings.link_expiry_quirk else expiry
        return Handled(
            outcome=Outcome.success(Endpoint.PAYMENT_LINK_CREATE),
            fields={
                "paymentLink": link,
                # The link id, not the merchant's reference (spec §11.10).
                "partnerReferenceNo": link_id,
                "expiryDate": iso_jakarta(shown),
            },
            created=txn,
        )


def parse_admin_amount(value: object) -> Decimal:
    """An amount given to the admin API (``"10000.00"``, ``10000``); positive."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("amount must be a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be positive")
    return amount.quantize(Decimal("0.01"))

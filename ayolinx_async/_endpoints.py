"""The one catalogue of Ayolinx endpoints (docs/protocol.md §17.0): path, product, whether the
call moves money, SNAP service code and success code. Resources, reconcile, the callback
handler, the simulator and the fault transport all read it, so a path is written once."""

from __future__ import annotations

import enum

__all__ = ["TOKEN_PATH", "CallbackPath", "Endpoint", "PaymentProduct"]


class PaymentProduct(enum.StrEnum):
    """The product a transaction belongs to; it decides which status query answers for it."""

    QRIS = "qris"
    EWALLET = "ewallet"
    VIRTUAL_ACCOUNT = "virtual_account"
    RETAIL = "retail"
    PAYMENT_LINK = "payment_link"


class Endpoint(enum.Enum):
    """Every Ayolinx endpoint the SDK calls (and the simulator serves)."""

    # (path, product, money-moving, SNAP service code, success code, label)
    TOKEN = ("/v1.0/access-token/b2b", None, False, "73", "2007300", "Access token B2B")
    QRIS_GENERATE = ("/v1.0/qr/qr-mpm-generate", "qris", True, "47", "2004700", "QRIS generate")
    QRIS_QUERY = ("/v1.0/qr/qr-mpm-query", "qris", False, "51", "2005100", "QRIS query")
    QRIS_CANCEL = ("/v1.0/qr/qr-mpm-cancel", "qris", True, "77", "2007700", "QRIS cancel")
    EWALLET_PAYMENT = (
        "/direct-debit/core/v1/debit/payment-host-to-host",
        "ewallet",
        True,
        "54",
        "2005400",
        "DANA get payment URL",
    )
    EWALLET_STATUS = (
        "/direct-debit/core/v1/debit/status",
        "ewallet",
        False,
        "55",
        "2005500",
        "DANA inquiry status",
    )
    VA_CREATE = (
        "/v1.0/transfer-va/create-va",
        "virtual_account",
        True,
        "27",
        "2002700",
        "VA create",
    )
    VA_INQUIRY = (
        "/v1.0/transfer-va/inquiry-va",
        "virtual_account",
        False,
        "30",
        "2003000",
        "VA inquiry",
    )
    # Retail answers a bare "00" on success (docs/protocol.md §17.8); its error codes are not
    # published, so service codes 90/91 are the simulator's own choice.
    RETAIL_CREATE = ("/v1.0/retail/create", "retail", True, "90", "00", "Retail create")
    RETAIL_QUERY = ("/v1.0/retail/query", "retail", False, "91", "00", "Retail query")
    PAYMENT_LINK_CREATE = (
        "/v1.0/payment-link/create",
        "payment_link",
        True,
        "01",
        "2000100",
        "Payment link create",
    )

    def __init__(
        self,
        path: str,
        product: str | None,
        money_moving: bool,
        service_code: str,
        success_code: str,
        label: str,
    ) -> None:
        self.path = path
        self.product = PaymentProduct(product) if product is not None else None
        self.money_moving = money_moving
        self.service_code = service_code
        self.success_code = success_code
        self.label = label

    @classmethod
    def by_path(cls, path: str) -> Endpoint | None:
        """The endpoint at ``path``, or ``None`` for a path the SDK does not model."""
        return _BY_PATH.get(path)

    @property
    def status_query(self) -> Endpoint | None:
        """The read-only query that answers for this endpoint's transactions, if any."""
        return _STATUS_QUERY.get(self.product) if self.product is not None else None


_BY_PATH = {endpoint.path: endpoint for endpoint in Endpoint}
_STATUS_QUERY = {
    PaymentProduct.QRIS: Endpoint.QRIS_QUERY,
    PaymentProduct.EWALLET: Endpoint.EWALLET_STATUS,
    PaymentProduct.VIRTUAL_ACCOUNT: Endpoint.VA_INQUIRY,
    PaymentProduct.RETAIL: Endpoint.RETAIL_QUERY,
}

TOKEN_PATH = Endpoint.TOKEN.path


class CallbackPath(enum.StrEnum):
    """Paths Ayolinx calls on the merchant (docs/protocol.md §18); usable as plain strings."""

    NOTIFY_DEFAULT = "/ayolinx/notify"
    MERCHANT_TOKEN = "/v1.0/access-token/b2b"
    SNAP_VA_PAYMENT = "/v1.0/transfer-va/payment"

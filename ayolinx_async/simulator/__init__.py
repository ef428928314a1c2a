"""The embedded Ayolinx: a strict, offline fake of the OpenAPI for tests, demos and benchmarks.

``Simulator`` is a raw ASGI application. In process::

    sim = Simulator()
    async with sim, sim.client() as client:      # no sockets
        ...
        await sim.pay(reference)                  # marks paid, sends the signed callback

On a real port: ``ayolinx simulator --port 8080`` (needs the ``[server]`` extra).
Never imported by the SDK's production code paths.
"""

from ._accounts import MerchantAccount, generate_rsa_key
from ._app import RequestRecord, Simulator
from ._codes import Case, Endpoint, Outcome, code_table_markdown
from ._delivery import (
    DEFAULT_SCHEDULE,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
)
from ._faults import FaultKind, Faults
from ._ledger import STATUS_DESCRIPTIONS, LookupFailed, Product, Transaction, TransitionRefused
from ._products import ProductSettings
from ._qris import build_qris, crc16_ccitt, parse_emv

__all__ = [
    "DEFAULT_SCHEDULE",
    "STATUS_DESCRIPTIONS",
    "Case",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryKind",
    "DeliveryState",
    "Endpoint",
    "FaultKind",
    "Faults",
    "LookupFailed",
    "MerchantAccount",
    "Outcome",
    "Product",
    "ProductSettings",
    "RequestRecord",
    "Simulator",
    "Transaction",
    "TransitionRefused",
    "build_qris",
    "code_table_markdown",
    "crc16_ccitt",
    "generate_rsa_key",
    "parse_emv",
]

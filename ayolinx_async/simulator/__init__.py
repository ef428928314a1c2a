"""The embedded Ayolinx: a strict, offline fake of the OpenAPI for tests, demos and benchmarks.

``Simulator`` is a raw ASGI application. In process::

    sim = Simulator()
    async with sim, sim.client() as client:      # no sockets
        ...
        await sim.pay(reference)                  # marks paid, sends the signed callback

On a real port: ``ayolinx simulator --port 8080`` (needs the ``[server]`` extra).
Never imported by the SDK's production code paths.
"""

from .accounts import MerchantAccount, generate_rsa_key
from .app import RequestRecord, Simulator
from .codes import Case, Endpoint, Outcome, code_table_markdown
from .delivery import (
    DEFAULT_SCHEDULE,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
)
from .faults import FaultKind, Faults
from .ledger import STATUS_DESCRIPTIONS, LookupFailed, Product, Transaction, TransitionRefused
from .products import ProductSettings
from .qris import build_qris, crc16_ccitt, parse_emv

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

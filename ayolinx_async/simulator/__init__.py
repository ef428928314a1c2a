"""The embedded Ayolinx: a strict, offline fake of the OpenAPI for tests, demos and benchmarks.

``Simulator`` is a raw ASGI application. In process::

    sim = Simulator()
    async with sim, sim.client() as client:      # no sockets
        ...
        await sim.pay(reference)                  # marks paid, sends the signed callback

On a real port: ``ayolinx simulator --port 8080`` (needs the ``[server]`` extra).
Never imported by the SDK's production code paths.
"""

from .._endpoints import Endpoint, PaymentProduct
from ._accounts import MerchantAccount, generate_rsa_key
from ._app import RequestRecord, Simulator
from ._codes import Case, Outcome, code_table_markdown
from ._delivery import (
    DEFAULT_SCHEDULE,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
)
from ._desk import ProductSettings
from ._faults import Faults, SimulatorFault
from ._ledger import STATUS_DESCRIPTIONS, LookupFailed, Transaction, TransitionRefused
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
    "Faults",
    "LookupFailed",
    "MerchantAccount",
    "Outcome",
    "PaymentProduct",
    "ProductSettings",
    "RequestRecord",
    "Simulator",
    "SimulatorFault",
    "Transaction",
    "TransitionRefused",
    "build_qris",
    "code_table_markdown",
    "crc16_ccitt",
    "generate_rsa_key",
    "parse_emv",
]

"""Test helpers for code that uses ayolinx-async: a fault-injecting transport wrapper.

Wrap any :class:`~ayolinx_async.Transport` (the default httpx one, the simulator's in-process
transport, your own) and script what goes wrong on which request::

    faults = FaultInjectingTransport(inner)
    faults.inject(Fault.read_timeout(after_send=True), path="/v1.0/qr/qr-mpm-generate")
    client = AyolinxClient(creds, base_url=..., transport=faults)
"""

from ._faults import Fault, FaultInjectingTransport, FaultKind, FaultRecord

__all__ = ["Fault", "FaultInjectingTransport", "FaultKind", "FaultRecord"]

"""What importing the client costs: httpx, httpcore, cryptography and aiohttp load with the first
client or key, not with ``from ayolinx_async import AyolinxClient`` (issue 15)."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from ayolinx_async import AyolinxClient, Timeout
from ayolinx_async.transport import HttpRequest, HttpResponse
print(sorted(m for m in ("httpx", "httpcore", "cryptography", "aiohttp") if m in sys.modules))
import ayolinx_async.transport as transport
transport.HttpxTransport
print(sorted(m for m in ("httpx", "httpcore", "cryptography", "aiohttp") if m in sys.modules))
"""


def test_importing_the_client_loads_no_http_or_crypto_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert "httpx" in after  # the transport, once asked for, brings it


def test_a_client_built_without_a_transport_gets_the_httpx_one() -> None:
    probe = (
        "from ayolinx_async import AyolinxClient, Credentials\n"
        "from ayolinx_async.transport import HttpxTransport\n"
        "class S:\n"
        "    async def sign_token(self, m): return ''\n"
        "    async def sign_service(self, m): return ''\n"
        "c = AyolinxClient(Credentials(client_key='k', client_secret='s'), signer=S())\n"
        "print(type(c.transport).__name__, isinstance(c.transport, HttpxTransport))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["HttpxTransport", "True"]

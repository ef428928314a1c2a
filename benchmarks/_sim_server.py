"""Serve the embedded simulator with uvicorn on 127.0.0.1 for P3 (run as a child process).

Reads the merchant's private key (PEM) on stdin, prints the bound port on stdout, serves
until terminated. The credentials are the benchmark's fixed client key and secret.
"""

from __future__ import annotations

import asyncio
import socket
import sys

import uvicorn

from ayolinx_async.simulator import MerchantAccount, Simulator

from ._fixtures import CLIENT_KEY, CLIENT_SECRET


async def _serve(pem: bytes) -> None:
    merchant = MerchantAccount.from_keys(
        client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=pem
    )
    simulator = Simulator(merchant)
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it Nagle + delayed ACK add ~40 ms to every response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        simulator,
        interface="asgi3",
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    print(sock.getsockname()[1], flush=True)
    await server.serve(sockets=[sock])


if __name__ == "__main__":
    asyncio.run(_serve(sys.stdin.buffer.read()))

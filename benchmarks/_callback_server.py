"""Serve a callback ASGI app with uvicorn for the loopback callback benchmark (child process).

``python -m benchmarks._callback_server {bare|sdk} PUBLIC_KEY_PEM_FILE CPU``: prints the port,
then the process CPU seconds used so far for each line read from stdin, and serves until stdin
closes. ``bare`` reads the body, verifies the RSA signature inline and
answers the documented ack; ``sdk`` is ``CallbackASGIApp`` over a ``CallbackHandler``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
import time
from datetime import datetime
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ayolinx_async.callbacks import CallbackHandler
from ayolinx_async.integrations.asgi import CallbackASGIApp
from ayolinx_async.signing import callback_string_to_sign

from ._data import CLIENT_KEY, CLIENT_SECRET

_ACK = b'{"responseCode":"2005600","responseMessage":"Successful"}'
_TOLERANCE = 3600.0  # seconds; the SDK handler's default window is no wider


def bare_app(public: rsa.RSAPublicKey) -> Any:
    """A hand-written ASGI endpoint doing the least a correct one must: the same RSA verify, a
    stale X-TIMESTAMP refused, the body parsed as JSON, the ack sent; no dedupe, no typed
    event."""
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        timestamp = headers[b"x-timestamp"].decode()
        signed = callback_string_to_sign("POST", scope["path"], body, timestamp).encode()
        try:
            if abs(datetime.fromisoformat(timestamp).timestamp() - time.time()) > _TOLERANCE:
                raise ValueError("stale X-TIMESTAMP")
            public.verify(base64.b64decode(headers[b"x-signature"]), signed, pkcs1, sha256)
            json.loads(body)
            status = 200
        except Exception:
            status = 401
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_ACK)).encode()),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": _ACK})

    return app


async def _noop(event: object) -> None:
    return None


async def _serve(kind: str, pem_file: str, cpu: int) -> None:
    os.sched_setaffinity(0, {cpu})
    with open(pem_file, "rb") as pem:  # noqa: ASYNC230 - startup, before serving
        public = serialization.load_pem_public_key(pem.read())
    assert isinstance(public, rsa.RSAPublicKey)
    if kind == "bare":
        app = bare_app(public)
    else:
        handler = CallbackHandler(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            ayolinx_public_keys=public,
            on_event=_noop,
        )
        app = CallbackASGIApp(handler)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, http="h11", loop="asyncio"
    )
    server = uvicorn.Server(config)
    print(sock.getsockname()[1], flush=True)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(time.process_time(), flush=True)
    server.should_exit = True
    await serving


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2], int(sys.argv[3])))

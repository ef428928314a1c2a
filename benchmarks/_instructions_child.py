"""``python -m benchmarks._instructions_child OP N KEY DELIVERIES``: set up, warm up, then run
one operation ``N`` times, in process (no sockets). Run under callgrind by
``benchmarks/instructions.py``, once with ``N`` and once with 0: the difference is the
operation's instructions, the set-up's cancelling out."""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import APIResponse, AyolinxClient, Credentials
from ayolinx_async._response import decode_response
from ayolinx_async.callbacks import DEFAULT_NOTIFY_PATH, CallbackHandler
from ayolinx_async.integrations.asgi import CallbackASGIApp
from ayolinx_async.models import QrisQueryRequest, QrisQueryResponse
from ayolinx_async.transport import HttpRequest, HttpResponse

from ._callback_server import _noop, bare_app
from ._clients import BareSigner
from ._data import (
    CLIENT_KEY,
    CLIENT_SECRET,
    QUERY_BODY,
    QUERY_PATH,
    REFERENCE,
    TOKEN_BODY,
    TOKEN_PATH,
)

WARM_UP = 200
#: One operation: a value, or a coroutine the driver awaits (in a running event loop).
Op = Callable[[], object]


class CannedTransport:
    """Answers every call at once with the benchmark server's bodies: what is left is the SDK."""

    max_in_flight = 100

    async def send(self, request: HttpRequest) -> HttpResponse:
        body = TOKEN_BODY if request.url.endswith(TOKEN_PATH) else QUERY_BODY
        return HttpResponse(
            status_code=200, headers={"content-type": "application/json"}, content=body
        )

    async def aclose(self) -> None:
        return None


def _client(key: rsa.RSAPrivateKey) -> AyolinxClient:
    credentials = Credentials(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, private_key=key)
    return AyolinxClient(credentials, base_url="http://bench.invalid", transport=CannedTransport())


def _api_response() -> APIResponse:
    answer = HttpResponse(status_code=200, headers={}, content=QUERY_BODY)
    return decode_response(answer, path=QUERY_PATH, external_id="1", attempts=1)


def _asgi(app: Any, deliveries: list[tuple[list[tuple[bytes, bytes]], bytes]]) -> Op:
    """One delivery per call through ``app``, as uvicorn hands it over (raw header pairs)."""
    queue = iter(deliveries)

    async def send(message: dict[str, Any]) -> None:
        return None

    async def deliver() -> None:
        pairs, body = next(queue)
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        scope = {
            "type": "http",
            "method": "POST",
            "path": DEFAULT_NOTIFY_PATH,
            "raw_path": DEFAULT_NOTIFY_PATH.encode(),
            "headers": pairs,
            "query_string": b"",
            "http_version": "1.1",
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 5000),
            "root_path": "",
        }
        await app(scope, receive, send)

    return deliver


def operations(key: rsa.RSAPrivateKey, deliveries_file: str) -> dict[str, Callable[[], Op]]:
    """Operation name → a function that sets it up (run before the warm-up)."""

    def floor() -> Op:
        signer = BareSigner(key)
        signer.token = "x" * 40

        def call() -> object:
            signer.query_request()
            return json.loads(QUERY_BODY)

        return call

    def typed() -> Op:
        client = _client(key)
        return lambda: client.qris.query(original_partner_reference_no=REFERENCE)

    def request() -> Op:
        client = _client(key)
        body = {"originalPartnerReferenceNo": REFERENCE, "additionalInfo": {"channel": "BNC_QRIS"}}
        return lambda: client.request(QUERY_PATH, body, idempotent=True)

    def request_model() -> Op:
        return lambda: QrisQueryRequest(original_partner_reference_no=REFERENCE)

    def to_wire() -> Op:
        model = QrisQueryRequest(original_partner_reference_no=REFERENCE)
        return model.to_wire

    def from_response() -> Op:
        api = _api_response()
        return lambda: QrisQueryResponse.from_response(api)

    def deliveries() -> list[tuple[list[tuple[bytes, bytes]], bytes]]:
        with open(deliveries_file, "rb") as file:
            loaded: list[tuple[list[tuple[bytes, bytes]], bytes]] = pickle.load(file)  # ours
        return loaded

    def asgi_sdk() -> Op:
        handler = CallbackHandler(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            ayolinx_public_keys=key.public_key(),
            on_event=_noop,
        )
        return _asgi(CallbackASGIApp(handler), deliveries())

    def asgi_bare() -> Op:
        return _asgi(bare_app(key.public_key()), deliveries())

    return {
        "floor": floor,
        "request": request,
        "typed": typed,
        "request_model": request_model,
        "to_wire": to_wire,
        "from_response": from_response,
        "asgi_sdk": asgi_sdk,
        "asgi_bare": asgi_bare,
    }


async def _main(op: Op, count: int) -> None:
    for _ in range(WARM_UP + count):
        value = op()
        if isinstance(value, Coroutine):
            await value


def _load_key(key_file: str) -> rsa.RSAPrivateKey:
    with open(key_file, "rb") as file:
        key = serialization.load_pem_private_key(file.read(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("an RSA key is needed")
    return key


if __name__ == "__main__":
    name, count, key_file, deliveries_file = sys.argv[1:5]
    setup = operations(_load_key(key_file), deliveries_file)[name]
    asyncio.run(_main(setup(), int(count)))

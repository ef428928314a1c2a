"""The counting server: raw ``asyncio.Protocol`` HTTP/1.1 with keep-alive, no framework, in its
own process pinned to one core (``python -m benchmarks._server CPU [PUBLIC_KEY_PEM_FILE]``).

It answers fixed, valid SNAP JSON for the token path and every service path, so what the client
side measures is the client. Given the merchant's public key (the pre-run) it checks every
token and service signature and answers 401 to a bad one. It prints its port,
then serves until stdin closes. ``GET /__counts`` answers the counts as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._data import ACCESS_TOKEN, CLIENT_KEY, CLIENT_SECRET, QUERY_BODY, TOKEN_BODY, TOKEN_PATH


def _answer(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


_TOKEN = _answer("200 OK", TOKEN_BODY)
_SERVICE = _answer("200 OK", QUERY_BODY)
_REFUSED = _answer("401 Unauthorized", b'{"responseCode":"4010000","responseMessage":"Bad sig"}')


class _Counts:
    __slots__ = ("bad", "connections", "service", "token")

    def __init__(self) -> None:
        self.token = self.service = self.bad = self.connections = 0


class _Checker:
    """The pre-run's signature checks (spec §5.1 token RSA, §5.2 service HMAC-SHA512)."""

    def __init__(self, public: rsa.RSAPublicKey) -> None:
        self._public = public

    def token_ok(self, headers: dict[bytes, bytes]) -> bool:
        message = f"{CLIENT_KEY}|{headers[b'x-timestamp'].decode()}".encode()
        try:
            self._public.verify(
                base64.b64decode(headers[b"x-signature"]),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, KeyError, ValueError):
            return False
        return True

    def service_ok(self, path: str, headers: dict[bytes, bytes], body: bytes) -> bool:
        digest = hashlib.sha256(body).hexdigest()
        timestamp = headers.get(b"x-timestamp", b"").decode()
        message = f"POST:{path}:{ACCESS_TOKEN}:{digest}:{timestamp}".encode()
        expected = hmac.new(CLIENT_SECRET.encode(), message, hashlib.sha512).digest()
        given = base64.b64decode(headers.get(b"x-signature", b""))
        return (
            hmac.compare_digest(expected, given)
            and headers.get(b"authorization") == f"Bearer {ACCESS_TOKEN}".encode()
        )


class _Protocol(asyncio.Protocol):
    __slots__ = ("_buffer", "_checker", "_counts", "_transport")

    def __init__(self, counts: _Counts, checker: _Checker | None) -> None:
        self._counts = counts
        self._checker = checker
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._counts.connections += 1

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            marker = head.lower().find(b"content-length:")
            length = 0
            if marker >= 0:
                stop = head.find(b"\r\n", marker)
                length = int(head[marker + 15 : stop if stop >= 0 else None])
            if len(buffer) < end + 4 + length:
                break
            body = buffer[end + 4 : end + 4 + length]
            buffer = buffer[end + 4 + length :]
            self._answer(head, body)
        self._buffer = buffer

    def _answer(self, head: bytes, body: bytes) -> None:
        assert self._transport is not None
        target = head.split(b" ", 2)[1]
        counts = self._counts
        if target == b"/__counts":
            payload = json.dumps(
                {
                    "token": counts.token,
                    "service": counts.service,
                    "bad": counts.bad,
                    "connections": counts.connections,
                }
            ).encode()
            self._transport.write(_answer("200 OK", payload))
            return
        token = target == TOKEN_PATH.encode()
        if self._checker is not None:
            headers = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
            )
            ok = (
                self._checker.token_ok(headers)
                if token
                else self._checker.service_ok(target.decode(), headers, body)
            )
            if not ok:
                counts.bad += 1
                self._transport.write(_REFUSED)
                return
        if token:
            counts.token += 1
            self._transport.write(_TOKEN)
        else:
            counts.service += 1
            self._transport.write(_SERVICE)


async def _serve(cpu: int, public_key_file: str | None) -> None:
    checker = None
    if public_key_file is not None:
        with open(public_key_file, "rb") as pem:  # noqa: ASYNC230 - startup, before serving
            public = serialization.load_pem_public_key(pem.read())
        assert isinstance(public, rsa.RSAPublicKey)
        checker = _Checker(public)
    os.sched_setaffinity(0, {cpu})
    loop = asyncio.get_running_loop()
    counts = _Counts()
    server = await loop.create_server(
        lambda: _Protocol(counts, checker), "127.0.0.1", 0, backlog=16384, reuse_address=True
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))

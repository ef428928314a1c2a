"""The transport contract, checked identically for every transport over real 127.0.0.1 sockets.

What the client relies on: the exact bytes and headers go out; status, raw bytes and lower-case
headers come back; failures are typed so that "never sent" (safe to resend) is told apart from
"may have been sent"; the total deadline holds whatever the server does; and a transport closes
only the HTTP client it created.
"""

from __future__ import annotations

import gzip
import time

import anyio
import httpx
import pytest

from ayolinx_async._errors import (
    ConnectError,
    ConnectionDroppedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    TransportError,
)
from ayolinx_async.transport import HttpRequest, HttpxTransport, Timeout

from ._rawserver import (
    Behaviour,
    Connection,
    Received,
    http_response,
    raw_server,
    refused_url,
    unanswered_url,
)
from .clients import TransportFactory, UserOwnedClient, own_client, own_client_is_closed

pytestmark = pytest.mark.anyio

PATH = "/v1.0/qr/qr-mpm-query"


def _request(url: str, *, body: bytes = b"{}", timeout: Timeout | None = None) -> HttpRequest:
    return HttpRequest(
        method="POST",
        url=url,
        headers={"Content-Type": "application/json", "User-Agent": "ayolinx-async"},
        content=body,
        timeout=timeout,
    )


async def test_sends_exact_bytes_and_headers(make_transport: TransportFactory) -> None:
    # Not valid JSON nor UTF-8 on purpose: a transport must not re-encode what was signed.
    body = '{"name":"Budi Sántoso","url":"https://x.id/a"}'.encode() + b"\x00\xff"
    headers = {
        "Content-Type": "application/json",
        "X-TIMESTAMP": "2024-09-18T13:36:36+07:00",
        "X-SIGNATURE": "aEMW/+Sw==",
        "X-EXTERNAL-ID": "172612050012345678901234567890123",
        "Authorization": "Bearer tok-1",
        "User-Agent": "ayolinx-async",
    }
    transport = make_transport()
    async with raw_server() as server:
        response = await transport.send(
            HttpRequest(
                method="POST", url=server.url + PATH + "?a=1", headers=headers, content=body
            )
        )
        await transport.aclose()
    assert response.status_code == 200
    [seen] = server.requests
    assert (seen.method, seen.target, seen.body) == ("POST", PATH + "?a=1", body)
    for name, value in headers.items():
        assert seen.header(name) == value, name
    assert seen.header("Content-Length") == str(len(body))
    assert [k for k, _ in seen.headers if k.lower() == "user-agent"] == ["User-Agent"]


async def test_returns_status_raw_bytes_and_lowercase_headers(
    make_transport: TransportFactory,
) -> None:
    payload = b"\x00\xff<html>not json</html>"

    async def answer(conn: Connection, request: Received) -> bool:
        await conn.send(
            http_response(
                404,
                payload,
                [
                    ("Content-Type", "text/html"),
                    ("X-Request-ID", "r-1"),
                    ("X-Dup", "a"),
                    ("X-Dup", "b"),
                ],
                reason="Not Found",
            )
        )
        return True

    transport = make_transport()
    async with raw_server(answer) as server:
        response = await transport.send(_request(server.url + PATH))
        await transport.aclose()
    assert response.status_code == 404  # an error status is an answer, not a transport error
    assert response.content == payload
    assert all(name == name.lower() for name in response.headers)
    assert response.headers["x-request-id"] == "r-1"
    assert response.headers["content-type"] == "text/html"
    assert response.headers["x-dup"] == "a, b"


async def test_does_not_follow_redirects(make_transport: TransportFactory) -> None:
    async def answer(conn: Connection, request: Received) -> bool:
        await conn.send(http_response(302, b"", [("Location", "/elsewhere")], reason="Found"))
        return True

    transport = make_transport()
    async with raw_server(answer) as server:
        response = await transport.send(_request(server.url + PATH))
        await transport.aclose()
    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere"
    assert [r.target for r in server.requests] == [PATH]


@pytest.mark.parametrize(
    "encodings",
    [["gzip"], ["identity", "gzip"]],
    ids=["gzip", "identity-then-gzip"],  # an identity first must not hide the gzip after it
)
async def test_decodes_gzip_responses(
    make_transport: TransportFactory, encodings: list[str]
) -> None:
    plain = b'{"responseCode":"2005100","responseMessage":"Successful"}'
    headers = [("Content-Encoding", encoding) for encoding in encodings]

    async def answer(conn: Connection, request: Received) -> bool:
        await conn.send(http_response(200, gzip.compress(plain), headers))
        return True

    transport = make_transport()
    async with raw_server(answer) as server:
        response = await transport.send(_request(server.url + PATH))
        await transport.aclose()
    assert response.content == plain


async def test_response_headers_are_lower_case_with_repeats_joined(
    make_transport: TransportFactory,
) -> None:
    # Decoded lazily (LazyHeaders): every way of reading them must see the same mapping.
    sent = [
        ("Content-Type", "application/json"),
        ("X-Trace", "a"),
        ("Set-Cookie", "one=1"),
        ("set-cookie", "two=2"),
        ("X-Name", "Budi"),
    ]

    async def answer(conn: Connection, request: Received) -> bool:
        await conn.send(http_response(200, b'{"responseCode":"2005100"}', sent))
        return True

    transport = make_transport()
    async with raw_server(answer) as server:
        response = await transport.send(_request(server.url + PATH))
        await transport.aclose()
    headers = response.headers
    expected = {
        "content-type": "application/json",
        "x-trace": "a",
        "set-cookie": "one=1, two=2",
        "x-name": "Budi",
        "content-length": "26",
    }
    assert dict(headers) == expected
    assert headers == expected
    assert headers["x-trace"] == "a"
    assert headers.get("x-missing") is None
    assert headers.get("x-missing", "d") == "d"
    assert "set-cookie" in headers
    assert "Set-Cookie" not in headers
    assert len(headers) == len(expected)
    assert sorted(headers) == sorted(expected)
    assert "Budi" in repr(headers)


async def test_reuses_one_connection_for_sequential_calls(make_transport: TransportFactory) -> None:
    transport = make_transport()
    async with raw_server() as server:
        for _ in range(3):
            assert (await transport.send(_request(server.url + PATH))).status_code == 200
        await transport.aclose()
    assert len(server.requests) == 3
    assert server.connections == 1


async def test_concurrent_calls_all_answered(make_transport: TransportFactory) -> None:
    transport = make_transport()
    statuses: list[int] = []

    async def one(i: int) -> None:
        body = f'{{"i":{i}}}'.encode()
        statuses.append((await transport.send(_request(server.url + PATH, body=body))).status_code)

    async with raw_server() as server:
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(one, i)
        await transport.aclose()
    assert statuses == [200] * 20
    assert sorted(r.body for r in server.requests) == sorted(
        f'{{"i":{i}}}'.encode() for i in range(20)
    )


async def test_connection_refused_is_a_connect_error_never_sent(
    make_transport: TransportFactory,
) -> None:
    transport = make_transport(Timeout(connect=2.0, total=5.0))
    with pytest.raises(ConnectError) as info:
        await transport.send(_request(refused_url()))
    await transport.aclose()
    assert info.value.request_sent is False


async def test_connect_timeout_is_typed_and_never_sent(make_transport: TransportFactory) -> None:
    transport = make_transport(Timeout(connect=0.2, total=5.0))
    with unanswered_url() as url:
        started = time.monotonic()
        with pytest.raises(ConnectTimeoutError) as info:
            await transport.send(_request(url))
        elapsed = time.monotonic() - started
    await transport.aclose()
    assert info.value.request_sent is False
    assert elapsed < 2.0


async def _hang(conn: Connection, request: Received) -> bool:
    await anyio.sleep_forever()
    return False  # pragma: no cover


async def test_server_that_never_answers_hits_the_total_deadline(
    make_transport: TransportFactory,
) -> None:
    transport = make_transport(Timeout(connect=1.0, total=0.3))
    async with raw_server(_hang) as server:
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError) as info:
            await transport.send(_request(server.url + PATH))
        elapsed = time.monotonic() - started
        await transport.aclose()
    assert info.value.request_sent is True  # the server got it and may have acted
    assert len(server.requests) == 1
    assert 0.25 <= elapsed < 2.0


async def test_total_deadline_holds_against_a_trickling_body(
    make_transport: TransportFactory,
) -> None:
    # Each byte arrives well within any per-read timeout; only a whole-exchange deadline stops it.
    async def trickle(conn: Connection, request: Received) -> bool:
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
        for _ in range(200):
            await conn.send(b" ")
            await anyio.sleep(0.02)
        return False

    transport = make_transport(Timeout(connect=1.0, total=0.4))
    async with raw_server(trickle) as server:
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            await transport.send(_request(server.url + PATH))
        elapsed = time.monotonic() - started
        await transport.aclose()
    assert elapsed < 2.0


async def test_per_request_timeout_overrides_the_default(make_transport: TransportFactory) -> None:
    transport = make_transport(Timeout(connect=5.0, total=30.0))
    async with raw_server(_hang) as server:
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            await transport.send(_request(server.url + PATH, timeout=Timeout(total=0.2)))
        elapsed = time.monotonic() - started
        await transport.aclose()
    assert elapsed < 2.0


async def _close_without_answer(conn: Connection, request: Received) -> bool:
    await conn.close()
    return False


async def _close_mid_body(conn: Connection, request: Received) -> bool:
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"responseCode"')
    await conn.close()
    return False


async def _close_mid_headers(conn: Connection, request: Received) -> bool:
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Le")
    await conn.close()
    return False


async def _garbage(conn: Connection, request: Received) -> bool:
    await conn.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    await conn.close()
    return False


@pytest.mark.parametrize(
    "behaviour",
    [_close_without_answer, _close_mid_headers, _close_mid_body, _garbage],
    ids=["no-answer", "mid-headers", "mid-body", "garbage"],
)
async def test_dropped_connection_may_have_been_sent(
    make_transport: TransportFactory, behaviour: Behaviour
) -> None:
    transport = make_transport(Timeout(connect=1.0, total=5.0))
    async with raw_server(behaviour) as server:
        with pytest.raises(ConnectionDroppedError) as info:
            await transport.send(_request(server.url + PATH))
        await transport.aclose()
    assert info.value.request_sent is True
    assert isinstance(info.value, TransportError)
    assert len(server.requests) == 1


async def test_aclose_closes_the_client_it_created(make_transport: TransportFactory) -> None:
    transport = make_transport()
    async with raw_server() as server:
        await transport.send(_request(server.url + PATH))
        client = own_client(transport)
        assert not own_client_is_closed(transport, client)
        await transport.aclose()
        assert own_client_is_closed(transport, client)
        await transport.aclose()  # idempotent
        with pytest.raises(RuntimeError):
            await transport.send(_request(server.url + PATH))
    assert len(server.requests) == 1


async def test_aclose_leaves_a_users_client_open(transport_kind: str) -> None:
    user = UserOwnedClient(transport_kind)
    async with raw_server() as server:
        await user.transport.send(_request(server.url + PATH))
        await user.transport.aclose()
        assert not user.is_closed
        # Still usable by its owner (and through the transport) after the transport closed.
        assert (await user.transport.send(_request(server.url + PATH))).status_code == 200
        await user.aclose()
    assert user.is_closed
    assert len(server.requests) == 2


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_unlimited_httpx_limits_keep_connections_alive(anyio_backend: str) -> None:
    # httpx's None means "no limit"; read as zero it would close every connection after use.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    transport = HttpxTransport(limits=limits)
    async with raw_server() as server:
        for _ in range(3):
            assert (await transport.send(_request(server.url + PATH))).status_code == 200
        assert server.connections == 1
        await transport.aclose()

"""The built-in pool over real TLS (issue 15): on asyncio its connections run on plain asyncio
streams (``transport/_streams.py``), on trio on httpcore's backend; both must verify the
certificate and the host name, reuse a kept-alive connection, notice one the server closed,
and report a refused handshake as a connect error (the request never left)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ayolinx_async._errors import ConnectError
from ayolinx_async.transport import ConnectionPool, HttpRequest, HttpxTransport
from ayolinx_async.transport._pool import parse_target

pytestmark = pytest.mark.anyio


def _certificate(
    subject: str, issuer_key: ec.EllipticCurvePrivateKey | None, issuer: x509.Name | None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    # Key identifiers: Python 3.13's default context verifies strictly (VERIFY_X509_STRICT)
    # and refuses a chain without an Authority Key Identifier, as real CAs always issue.
    signer = issuer_key or key
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    ).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return key, builder.sign(issuer_key or key, hashes.SHA256())


class _Handler(socketserver.StreamRequestHandler):
    """Answers each keep-alive request with a small JSON body; ``/slow`` never answers."""

    def handle(self) -> None:
        server: _TlsServer = self.server  # type: ignore[assignment]
        server.connections += 1
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                chunk = self.rfile.readline()
                if not chunk:
                    return
                head += chunk
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.rfile.read(length)
            if b" /slow " in head:
                threading.Event().wait(2)
                return
            body = b'{"responseCode":"2005100"}'
            close = b" /close " in head
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + (b"Connection: close\r\n" if close else b"")
                + b"Content-Length: %d\r\n\r\n" % len(body)
                + body
            )
            self.wfile.flush()
            if close:
                return


class _TlsServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    connections = 0

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # refused handshakes are part of the tests


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A TLS server for 127.0.0.1/localhost signed by a throwaway CA; yields (port, CA file)."""
    ca_key, ca = _certificate("test CA", None, None)
    key, leaf = _certificate("localhost", ca_key, ca.subject)
    folder = tmp_path_factory.mktemp("tls")
    (folder / "leaf.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "leaf.pem")
    server = _TlsServer(context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], folder / "ca.pem"
    server.shutdown()
    server.server_close()


_EXT = {"timeout": {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}}


@pytest.fixture
def httpx_only(transport_kind: str) -> None:
    if transport_kind != "httpx":
        pytest.skip("the built-in pool belongs to the httpx transport")


def _pool(ca: Path | None) -> ConnectionPool:
    context = ssl.create_default_context(cafile=str(ca)) if ca else httpx.create_ssl_context()
    return ConnectionPool(
        max_connections=4, max_keepalive=4, keepalive_expiry=5.0, ssl_context=context
    )


async def _post(pool: ConnectionPool, url: str, read: float = 2.0) -> tuple[int, bytes]:
    ext = {"timeout": {**_EXT["timeout"], "read": read}}
    status, _, body = await pool.exchange(b"POST", parse_target(url), [], b"{}", ext)
    return status, body


@pytest.mark.usefixtures("httpx_only")
async def test_a_trusted_server_answers_and_the_connection_is_kept(
    tls: tuple[int, Path],
) -> None:
    port, ca = tls
    pool = _pool(ca)
    try:
        for _ in range(3):
            assert await _post(pool, f"https://localhost:{port}/v1.0/x") == (
                200,
                b'{"responseCode":"2005100"}',
            )
        assert pool.idle == 1  # one connection carried all three
        # The server closes this one after answering: the next request opens a fresh one.
        await _post(pool, f"https://localhost:{port}/close")
        assert (await _post(pool, f"https://127.0.0.1:{port}/v1.0/x"))[0] == 200
    finally:
        await pool.aclose()


@pytest.mark.usefixtures("httpx_only")
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_an_untrusted_certificate_is_a_connect_error(
    tls: tuple[int, Path], host: str
) -> None:
    port, _ = tls
    transport = HttpxTransport()  # certifi's roots: the throwaway CA is not among them
    request = HttpRequest(
        method="POST", url=f"https://{host}:{port}/v1.0/x", headers={}, content=b"{}"
    )
    try:
        with pytest.raises(ConnectError):  # refused before anything was sent
            await transport.send(request)
    finally:
        await transport.aclose()


@pytest.mark.usefixtures("httpx_only")
async def test_a_host_name_the_certificate_does_not_name_is_a_connect_error(
    tls: tuple[int, Path],
) -> None:
    port, ca = tls
    pool = _pool(ca)
    try:
        with pytest.raises(httpx.ConnectError):
            await _post(pool, f"https://127.0.0.2:{port}/v1.0/x")
    finally:
        await pool.aclose()


@pytest.mark.usefixtures("httpx_only")
async def test_a_silent_server_is_a_read_timeout(tls: tuple[int, Path]) -> None:
    port, ca = tls
    pool = _pool(ca)
    try:
        with pytest.raises(httpx.ReadTimeout):
            await _post(pool, f"https://localhost:{port}/slow", read=0.3)
    finally:
        await pool.aclose()


@pytest.mark.usefixtures("httpx_only")
async def test_connections_use_asyncio_streams_on_asyncio_only(anyio_backend_name: str) -> None:
    from ayolinx_async.transport._streams import AsyncioBackend

    backend = _pool(None)._network_backend()
    if anyio_backend_name == "asyncio":
        assert isinstance(backend, AsyncioBackend)
    else:
        assert backend is None  # httpcore picks its trio backend


@pytest.mark.usefixtures("httpx_only")
async def test_connects_race_addresses_like_anyio(
    anyio_backend_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Happy eyeballs (RFC 8305's 250 ms): a silent first address must not eat the connect
    timeout while the next one answers, as with httpcore's anyio backend. uvloop's
    ``create_connection`` refuses the argument (a ``TypeError`` on every connect), so on it
    the argument is left out."""
    if anyio_backend_name != "asyncio":
        pytest.skip("the asyncio streams backend only")
    import asyncio

    from ayolinx_async.transport import _streams

    seen: dict[str, object] = {}

    async def fake_open_connection(host: str, port: int, **options: object) -> object:
        seen.update(options)
        raise OSError("refused")

    monkeypatch.setattr(asyncio, "open_connection", fake_open_connection)
    with pytest.raises(httpcore.ConnectError):
        await _streams.AsyncioBackend().connect_tcp("localhost", 1, timeout=1.0)
    if isinstance(asyncio.get_running_loop(), asyncio.BaseEventLoop):
        assert seen["happy_eyeballs_delay"] == 0.25
    else:  # uvloop
        assert "happy_eyeballs_delay" not in seen

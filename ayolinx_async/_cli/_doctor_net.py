"""The network checks of ``ayolinx doctor``: DNS, TCP, TLS, clock skew (the server's ``Date``
header), a real token request and an optional read-only call, each with the usual fix."""

from __future__ import annotations

import os
import secrets
import socket
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._doctor_checks import Check, Findings, failed, passed, skipped
from ._output import ExitCode

if TYPE_CHECKING:
    import httpx

    from .._client import AyolinxClient

__all__ = ["MAX_SKEW", "READ_ONLY_PATH", "check_api", "check_dns", "check_http", "check_tcp"]

#: Seconds of clock difference the doctor tolerates (SNAP servers check X-TIMESTAMP).
MAX_SKEW = 60.0
#: The read-only call: a QRIS status query of a reference that does not exist.
READ_ONLY_PATH = "/v1.0/qr/qr-mpm-query"

_UNREACHABLE = "not run: the server is not reachable"
_CLOCK_HINT = (
    "SNAP servers refuse an X-TIMESTAMP outside their window: sync this machine's clock"
    " (NTP: `timedatectl set-ntp true`, chrony)"
)


def _target(found: Findings) -> tuple[str, int, str]:
    """Host and port the first connection goes to (the proxy's, if one applies), and a label."""
    url = found.proxy[0] if found.proxy is not None else str(found.base_url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    label = f" (the proxy from {found.proxy[1]})" if found.proxy is not None else ""
    return parts.hostname or "", port, label


async def check_dns(found: Findings, timeout: float) -> Check:
    """The host (or the proxy's host) resolves."""
    import anyio

    if found.base_url is None:
        return skipped("dns", "not checked: no usable base URL")
    host, port, label = _target(found)
    try:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return failed(
            "dns", f"no answer for {host} within {timeout:g} s", "check DNS", ExitCode.NETWORK
        )
    except OSError as exc:
        return failed(
            "dns",
            f"cannot resolve {host}{label}: {exc.strerror or exc}",
            "check the host name in AYOLINX_BASE_URL (or the proxy variable) and this"
            " machine's DNS resolver",
            ExitCode.NETWORK,
        )
    found.addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    shown = ", ".join(found.addresses[:3])
    return passed("dns", f"{host}{label} -> {shown}")


async def check_tcp(found: Findings, timeout: float) -> Check:
    """A TCP connection opens to the host (or the proxy)."""
    import anyio

    if not found.addresses:
        return skipped("tcp", "not checked: the host did not resolve")
    host, port, label = _target(found)
    address = found.addresses[0]
    started = time.monotonic()
    try:
        with anyio.fail_after(timeout):
            stream = await anyio.connect_tcp(address, port)
        await stream.aclose()
    except TimeoutError:
        return failed(
            "tcp",
            f"cannot connect to {host}:{port}{label}: no answer within {timeout:g} s",
            "a firewall drops the connection: production egress often needs a whitelisted IP"
            " or a proxy (HTTPS_PROXY)",
            ExitCode.NETWORK,
        )
    except OSError as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
        reason = os.strerror(cause.errno) if cause.errno else str(cause)
        return failed(
            "tcp",
            f"cannot connect to {host}:{port}{label}: {reason}",
            "nothing listens there: check the port in AYOLINX_BASE_URL and that the server"
            " (or `ayolinx simulator`) is running",
            ExitCode.NETWORK,
        )
    elapsed = (time.monotonic() - started) * 1000
    found.reachable = True
    return passed("tcp", f"connected to {address}:{port}{label} in {elapsed:.0f} ms")


def _tls_version(response: httpx.Response) -> str | None:
    stream: Any = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    return str(ssl_object.version()) if ssl_object is not None else None


def _tls_failure(exc: Exception) -> Check:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        hint = (
            "something between you and Ayolinx presents its own certificate (a TLS-inspecting"
            " proxy or antivirus), or the CA bundle is old: set SSL_CERT_FILE to the right bundle"
        )
    else:
        hint = "the server does not speak TLS on this port (http:// is only for a local simulator)"
    return failed("tls", f"handshake failed: {text}", hint, ExitCode.NETWORK)


def _skew_text(skew: float) -> str:
    amount = abs(skew)
    size = f"{amount:.0f} s" if amount < 120 else f"{amount / 60:.0f} min"
    return f"{size} {'behind' if skew > 0 else 'ahead of'}"


def _clock(found: Findings, response: httpx.Response, sent: float, received: float) -> Check:
    """Compare this machine's clock with the server's ``Date`` header (1 s resolution)."""
    header = response.headers.get("date")
    if not header:
        return skipped("clock", "not checked: the server's answer has no Date header")
    try:
        server = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return skipped("clock", f"not checked: unreadable Date header {header!r}")
    found.skew = skew = server - (sent + received) / 2
    if abs(skew) > MAX_SKEW:
        return failed(
            "clock",
            f"this machine's clock is {_skew_text(skew)} the server's (Date header)",
            _CLOCK_HINT,
            ExitCode.FAILED,
        )
    return passed("clock", f"within {MAX_SKEW:.0f} s of the server's Date header")


async def check_http(found: Findings, timeout: float) -> list[Check]:
    """``GET /`` through the proxy variables as the SDK sends: TLS, then the clock skew."""
    import httpx

    if not found.reachable or found.base_url is None:
        return [skipped("tls", _UNREACHABLE), skipped("clock", _UNREACHABLE)]
    https = found.base_url.startswith("https://")
    sent = time.time()
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            response = await http.get(found.base_url + "/")
    except (httpx.HTTPError, OSError) as exc:  # httpcore 1.0.0 lets ssl.SSLError through raw
        found.reachable = False
        if https:
            return [_tls_failure(exc), skipped("clock", _UNREACHABLE)]
        text = " ".join(str(exc).split()) or type(exc).__name__
        no_answer = f"no answer to GET {found.base_url}/: {text}"
        return [
            skipped("tls", "n/a: the base URL is http://"),
            failed("clock", no_answer, None, ExitCode.NETWORK),
        ]
    received = time.time()
    if https:
        version = _tls_version(response) or "TLS"
        tls = passed("tls", f"{version}, certificate valid for {urlsplit(found.base_url).hostname}")
    else:
        tls = skipped("tls", "n/a: the base URL is http://")
    return [tls, _clock(found, response, sent, received)]


def _api_hint(exc: Exception, found: Findings, *, token_call: bool) -> str | None:
    """The usual cause of an Ayolinx failure answer, in this integration's terms."""
    from .._errors import APIError

    if not isinstance(exc, APIError):
        return None
    status, case = exc.http_status, exc.case_code
    if status == 401 and (found.clock_is_off or "timestamp" in exc.message.lower()):
        return _CLOCK_HINT
    if token_call and status == 401:
        return (
            "the private key does not match the public key registered in the Ayolinx back"
            " office, or AYOLINX_CLIENT_KEY is wrong: compare the public key below with the"
            " back office (`ayolinx sign token` shows what is signed)"
        )
    if token_call and status == 400:
        return (
            "usually an AYOLINX_CLIENT_KEY this environment does not know (sandbox and"
            " production keys differ: check AYOLINX_ENVIRONMENT / AYOLINX_BASE_URL)"
        )
    if status == 401 and case == "00":
        return (
            "the request signature was refused: AYOLINX_CLIENT_SECRET is wrong (it keys the"
            " HMAC; the token worked, so the private key and client key are right)"
        )
    if status == 404 and case != "01":
        return (
            "this URL does not route to the Ayolinx API: AYOLINX_BASE_URL must be only the"
            " scheme and host"
        )
    hint = getattr(exc, "hint", None)
    return hint if isinstance(hint, str) else None


def _api_failure(name: str, exc: Exception, found: Findings, *, token_call: bool) -> Check:
    """One ✘ line for an exception from the client, with its exit status and hint."""
    from .._errors import (
        APIError,
        ConfigurationError,
        OutcomeUnknownError,
        ResponseDecodeError,
        TransportError,
    )

    if isinstance(exc, OutcomeUnknownError) and isinstance(exc.cause, Exception):
        exc = exc.cause
    if isinstance(exc, APIError):
        code = exc.response_code.value if exc.response_code is not None else "-"
        detail = f"HTTP {exc.http_status} {code} {exc.message}"
        return failed(name, detail, _api_hint(exc, found, token_call=token_call), ExitCode.FAILED)
    if isinstance(exc, ResponseDecodeError):
        kind = exc.headers.get("content-type", "no content type")
        detail = f"not an Ayolinx answer: HTTP {exc.http_status}, {kind}, {len(exc.raw)} bytes"
        hint = None
        if exc.raw.lstrip()[:1] == b"<":
            via = f" ({found.proxy[1]} is set)" if found.proxy is not None else ""
            hint = (
                "an HTML page answered, not Ayolinx: a proxy, firewall or captive portal replied"
                f"{via}; check HTTP_PROXY/HTTPS_PROXY/NO_PROXY and AYOLINX_BASE_URL"
            )
        return failed(name, detail, hint, ExitCode.NETWORK)
    text = " ".join(str(exc).split("\n", 1)[0].split())
    if isinstance(exc, ConfigurationError):
        return failed(name, text, None, ExitCode.CONFIGURATION)
    if isinstance(exc, TransportError):
        return failed(name, f"{type(exc).__name__}: {text}", None, ExitCode.NETWORK)
    return failed(name, f"{type(exc).__name__}: {text}", None, ExitCode.FAILED)


async def _read_only(client: AyolinxClient, found: Findings) -> Check:
    """A status query of a reference that cannot exist: "not found" proves signing and routing."""
    from .._errors import APIError, AyolinxError

    reference = "DOCTOR-" + secrets.token_hex(8).upper()
    body = {"originalPartnerReferenceNo": reference, "additionalInfo": {"channel": "BNC_QRIS"}}
    try:
        answer = await client.request(READ_ONLY_PATH, body, idempotent=True)
    except APIError as exc:
        code = exc.response_code.value if exc.response_code is not None else "-"
        if exc.http_status == 404 and exc.case_code == "01":
            return passed(
                "read-only",
                f"{READ_ONLY_PATH} of an unknown reference -> {code} {exc.message}:"
                " signing and routing work",
            )
        return _api_failure("read-only", exc, found, token_call=False)
    except AyolinxError as exc:
        return _api_failure("read-only", exc, found, token_call=False)
    code = answer.response_code.value
    return passed("read-only", f"{READ_ONLY_PATH} -> {code}: signing and routing work")


async def check_api(found: Findings, timeout: float, *, read_only: bool) -> list[Check]:
    """A real token request with ``AyolinxClient.from_env()``, then the optional call."""
    from .._client import AyolinxClient
    from .._errors import AyolinxError
    from ..transport import Timeout

    later = (
        skipped("read-only", "not run: no access token")
        if read_only
        else skipped("read-only", "not run: add --call-read-only to send one status query")
    )
    if not found.credentials_ok or found.key is None:
        return [skipped("token", "not run: fix the variables and the private key first"), later]
    if not found.reachable:
        return [skipped("token", _UNREACHABLE), later]
    try:
        client = AyolinxClient.from_env(
            timeout=Timeout(connect=min(5.0, timeout), total=timeout), max_retries=0
        )
        async with client:
            token = await client.get_access_token()
            found.token_ok = True
            first = passed(
                "token", f"access token received ({token.token_type}, valid {token.lifetime:g} s)"
            )
            if not read_only:
                return [first, later]
            return [first, await _read_only(client, found)]
    except AyolinxError as exc:
        return [_api_failure("token", exc, found, token_call=True), later]

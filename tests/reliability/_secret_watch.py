"""The suite-wide leak check behind the autouse ``no_secret_leaks`` fixture in tests/conftest.py.

While a test runs, :class:`SecretWatch` notes every secret the SDK handles (client secrets of
any ``Credentials`` built, access tokens fetched, signatures produced by ``LocalSigner``, the
session's private keys) and every SDK exception created. At teardown it looks for any of those
secrets in the captured log records and in the ``str``/``repr`` of those exceptions and tokens.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import ayolinx_async
from ayolinx_async import AccessToken, AyolinxError, Credentials, LocalSigner
from tests.conftest import CLIENT_SECRET

#: Shorter values (``"tok-1"`` in the core fakes) would match innocent text; they are skipped.
MIN_SECRET_LENGTH = 8
_KEY_LINES: dict[int, tuple[str, ...]] = {}


def private_key_lines(key: rsa.RSAPrivateKey) -> tuple[str, ...]:
    """The base64 body lines of a key in both PEM layouts (PKCS#8 and PKCS#1), cached."""
    lines = _KEY_LINES.get(id(key))
    if lines is None:
        found: list[str] = []
        for layout in (
            serialization.PrivateFormat.PKCS8,
            serialization.PrivateFormat.TraditionalOpenSSL,
        ):
            pem = key.private_bytes(
                serialization.Encoding.PEM, layout, serialization.NoEncryption()
            ).decode("ascii")
            found += [line for line in pem.splitlines() if line and "-----" not in line]
        lines = _KEY_LINES[id(key)] = tuple(found)
    return lines


def find_leaks(secrets: Iterable[str], texts: Iterable[str]) -> list[str]:
    """Which ``secrets`` occur in any of ``texts`` (linear in the text, whatever the count)."""
    wanted = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    blob = "\n".join(texts)
    if not wanted or not blob:
        return []
    if len(wanted) * len(blob) < 20_000_000:
        return sorted(s for s in wanted if s in blob)
    by_prefix: dict[str, list[str]] = {}
    for secret in wanted:
        by_prefix.setdefault(secret[:MIN_SECRET_LENGTH], []).append(secret)
    leaks: set[str] = set()
    for index in range(len(blob) - MIN_SECRET_LENGTH + 1):
        candidates = by_prefix.get(blob[index : index + MIN_SECRET_LENGTH])
        if candidates:
            leaks.update(s for s in candidates if blob.startswith(s, index))
    return sorted(leaks)


class SecretWatch:
    """Collects secrets and SDK exceptions for one test (installed with ``monkeypatch``)."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.exceptions: list[BaseException] = []
        self.tokens: list[AccessToken] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        watch = self
        original_init: Callable[..., None] = AyolinxError.__init__
        original_post_init: Callable[[Credentials], None] = Credentials.__attrs_post_init__
        from_lifetime = AccessToken.__dict__["from_lifetime"].__func__
        sign_token = LocalSigner.sign_token
        sign_service = LocalSigner.sign_service

        def init(self: AyolinxError, *args: Any, **kwargs: Any) -> None:
            watch.exceptions.append(self)
            original_init(self, *args, **kwargs)

        def post_init(self: Credentials) -> None:
            watch.secrets.add(self.client_secret)
            original_post_init(self)

        def issued(cls: type[AccessToken], value: str, *args: Any, **kwargs: Any) -> AccessToken:
            token: AccessToken = from_lifetime(cls, value, *args, **kwargs)
            watch.secrets.add(value)
            watch.tokens.append(token)
            return token

        async def signed_token(self: LocalSigner, string_to_sign: str) -> str:
            signature = await sign_token(self, string_to_sign)
            watch.secrets.add(signature)
            return signature

        async def signed_service(self: LocalSigner, string_to_sign: str) -> str:
            signature = await sign_service(self, string_to_sign)
            watch.secrets.add(signature)
            return signature

        monkeypatch.setattr(AyolinxError, "__init__", init)
        monkeypatch.setattr(Credentials, "__attrs_post_init__", post_init)
        monkeypatch.setattr(AccessToken, "from_lifetime", classmethod(issued))
        monkeypatch.setattr(LocalSigner, "sign_token", signed_token)
        monkeypatch.setattr(LocalSigner, "sign_service", signed_service)

    def texts(self, records: Iterable[logging.LogRecord]) -> list[str]:
        """Everything that must be secret-free: log lines, exception texts, token reprs."""
        found: list[str] = []
        for record in records:
            found.append(record.getMessage())
            if record.exc_info and record.exc_info[1] is not None:
                found.append(str(record.exc_info[1]))
        for exc in self.exceptions:
            found += [str(exc), repr(exc)]
            found += sdk_frame_locals(exc)
        for token in self.tokens:
            found += [str(token), repr(token)]
        return found


_PACKAGE_DIR = str(Path(ayolinx_async.__file__).parent)


def sdk_frame_locals(exc: BaseException) -> list[str]:
    """What a crash reporter capturing frame locals (Sentry, ``capture_locals=True``) would
    print for the SDK's own frames of ``exc`` and the exceptions chained to it."""
    found: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            if not frame.f_code.co_filename.startswith(_PACKAGE_DIR):
                continue
            for name, value in frame.f_locals.items():
                try:
                    shown = repr(value)
                except Exception:  # a half-built object (its __init__ raised): nothing shown
                    continue
                found.append(f"{name}={shown}")
        pending.append(current.__cause__)
        if not current.__suppress_context__:
            pending.append(current.__context__)
    return found


def check(
    request: pytest.FixtureRequest, watch: SecretWatch, records: Iterable[logging.LogRecord]
) -> None:
    """Fail the test if any known secret shows up where it must not."""
    secrets = set(watch.secrets) | {CLIENT_SECRET}
    for name in ("merchant_key", "ayolinx_key"):
        if name in request.fixturenames:
            secrets.update(private_key_lines(request.getfixturevalue(name)))
    leaks = find_leaks(secrets, watch.texts(records))
    if leaks:
        shown = ", ".join(leak[:6] + "…" for leak in leaks)
        pytest.fail(f"secret text leaked into a log record, exception or repr: {shown}")


def telemetry_texts(spans: Iterable[Any], metrics: Any) -> list[str]:
    """What OpenTelemetry would export (in-memory exporters' output): every span's name,
    status, attributes and events, and every metric data point's attributes."""
    found: list[str] = []
    for span in spans:
        found += [span.name, str(span.status.description)]
        found += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        for event in span.events:
            found += [event.name, *(f"{k}={v}" for k, v in (event.attributes or {}).items())]
    for resource in getattr(metrics, "resource_metrics", ()) if metrics is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    found += [f"{k}={v}" for k, v in (point.attributes or {}).items()]
    return found

"""``ayolinx token`` and ``ayolinx call``: talk to the configured Ayolinx environment.

Both build the client with ``AyolinxClient.from_env()``: ``AYOLINX_CLIENT_KEY``,
``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PRIVATE_KEY`` or ``AYOLINX_PRIVATE_KEY_FILE``,
``AYOLINX_PRIVATE_KEY_PASSWORD``, ``AYOLINX_ENVIRONMENT`` (sandbox/production) and
``AYOLINX_BASE_URL`` (e.g. a local ``ayolinx simulator``). They print the outcome:
HTTP status, ``responseCode``, message, X-EXTERNAL-ID and the body. The access token is only
shown with ``--show-token``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from . import Command
from ._output import (
    BODY_ENCODINGS,
    ExitCode,
    UsageError,
    emit_json,
    encode_json_file,
    read_body,
    token_label,
    validate_path,
    wants_json,
)

if TYPE_CHECKING:
    from .._client import AyolinxClient
    from .._errors import APIError
    from ..transport._base import HttpRequest, HttpResponse, Timeout, Transport

__all__ = ["CALL_COMMAND", "TOKEN_COMMAND", "Outcome"]


def _add_connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per attempt (default 30)"
    )
    group.add_argument(
        "--max-retries",
        type=int,
        default=None,
        metavar="N",
        help="retries of safe requests on network errors, 429 and 5xx (SDK default 2)",
    )


def _configure_token(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--show-token", action="store_true", help="print the access token (hidden by default)"
    )
    _add_connection(parser)


def _configure_call(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="endpoint path, e.g. /v1.0/qr/qr-mpm-query")
    parser.add_argument("bodyfile", metavar="BODYFILE", help="JSON request body ('-' = stdin)")
    parser.add_argument(
        "--idempotent",
        action="store_true",
        help="the endpoint is read-only (query/inquiry): retry it on timeouts and 5xx",
    )
    parser.add_argument(
        "--external-id", metavar="ID", help="X-EXTERNAL-ID to send (default: a fresh one)"
    )
    parser.add_argument(
        "--encode",
        choices=BODY_ENCODINGS,
        default="compact",
        help="send compact JSON (default, what the SDK sends), PHP-style JSON, or the file's"
        " exact bytes (raw)",
    )
    _add_connection(parser)


@attrs.frozen(kw_only=True, slots=True)
class _Exchange:
    """One HTTP exchange as the recorder saw it (no headers: they hold the signature)."""

    path: str
    http_status: int | None
    content: bytes = attrs.field(repr=False)
    error: str | None = None

    def response_code(self) -> str | None:
        data = _json_object(self.content)
        code = data.get("responseCode") if data is not None else None
        return None if code is None else str(code)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "http_status": self.http_status,
            "response_code": self.response_code(),
            "error": self.error,
        }


class _Recorder:
    """A transport wrapper that remembers every exchange, for the report."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self.exchanges: list[_Exchange] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        from .._errors import TransportError

        path = urlsplit(request.url).path
        try:
            response = await self._inner.send(request)
        except TransportError as exc:
            self.exchanges.append(
                _Exchange(path=path, http_status=None, content=b"", error=type(exc).__name__)
            )
            raise
        self.exchanges.append(
            _Exchange(path=path, http_status=response.status_code, content=response.content)
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@attrs.frozen(kw_only=True, slots=True)
class Outcome:
    """What one ``token``/``call`` run produced."""

    ok: bool
    url: str
    http_status: int | None
    response_code: str | None
    response_message: str | None
    external_id: str | None
    attempts: int
    body: Mapping[str, Any] | None
    exchanges: tuple[_Exchange, ...]
    extra: Mapping[str, Any] = attrs.Factory(dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "url": self.url,
            "http_status": self.http_status,
            "response_code": self.response_code,
            "response_message": self.response_message,
            "external_id": self.external_id,
            "attempts": self.attempts,
            **self.extra,
            "body": self.body,
            "exchanges": [e.to_json() for e in self.exchanges],
        }

    def render(self) -> str:
        mark = "OK  " if self.ok else "FAIL"
        status = "-" if self.http_status is None else str(self.http_status)
        rows: list[tuple[str, str]] = [
            ("responseCode", self.response_code or "-"),
            ("responseMessage", self.response_message or "-"),
            ("X-EXTERNAL-ID", self.external_id or "- (token requests carry none)"),
        ]
        rows += [(k, str(v)) for k, v in self.extra.items()]
        if self.attempts > 1:
            rows.append(("attempts", str(self.attempts)))
        width = max(len(label) for label, _ in rows)
        lines = [f"{mark} POST {self.url} -> HTTP {status}"]
        lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
        if len(self.exchanges) > 1:
            lines.append("requests sent:")
            for exchange in self.exchanges:
                answer = exchange.error or (
                    f"HTTP {exchange.http_status} {exchange.response_code() or '-'}"
                )
                lines.append(f"  POST {exchange.path} -> {answer}")
        lines.append("body:")
        body = json.dumps(self.body, indent=2, ensure_ascii=False) if self.body else "(none)"
        lines += ["  " + line for line in body.splitlines()]
        return "\n".join(lines) + "\n"


def _reference(body: bytes) -> str | None:
    """The merchant reference in a request body, for the "outcome unknown" message."""
    data = _json_object(body)
    for key in ("partnerReferenceNo", "trxId", "originalPartnerReferenceNo"):
        value = data.get(key) if data is not None else None
        if isinstance(value, str) and value:
            return value
    return None


def _timeout(args: argparse.Namespace) -> Timeout:
    from ..transport._base import Timeout

    if not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    return Timeout(connect=min(5.0, args.timeout), total=args.timeout)


def _failure(exc: APIError, base_url: str, recorder: _Recorder) -> Outcome:
    """The report for an answer that is not a success (exit status 1)."""
    path = exc.path or ""
    return Outcome(
        ok=False,
        url=base_url + path,
        http_status=exc.http_status,
        response_code=None if exc.response_code is None else exc.response_code.value,
        response_message=exc.message,
        external_id=exc.external_id,
        attempts=sum(1 for e in recorder.exchanges if e.path == path) or 1,
        body=exc.body,
        exchanges=tuple(recorder.exchanges),
    )


async def _with_client(
    args: argparse.Namespace, work: Callable[[AyolinxClient, _Recorder], Awaitable[Outcome]]
) -> Outcome:
    """Build the client from the environment around a recording transport and run ``work``."""
    from .._client import AyolinxClient
    from ..transport._httpx import HttpxTransport

    if args.max_retries is not None and args.max_retries < 0:
        raise UsageError("--max-retries must be 0 or more")
    timeout = _timeout(args)
    recorder = _Recorder(HttpxTransport(timeout=timeout))
    try:
        client = AyolinxClient.from_env(
            transport=recorder, timeout=timeout, max_retries=args.max_retries
        )
        async with client:
            return await work(client, recorder)
    finally:
        await recorder.aclose()


async def _token(args: argparse.Namespace) -> Outcome:
    from .._client import TOKEN_PATH
    from .._errors import APIError
    from .._wire import format_timestamp

    async def work(client: AyolinxClient, recorder: _Recorder) -> Outcome:
        try:
            token = await client.get_access_token()
        except APIError as exc:
            return _failure(exc, client.base_url, recorder)
        answer = next((e for e in reversed(recorder.exchanges) if e.path == TOKEN_PATH), None)
        body = dict(_json_object(answer.content) or {}) if answer is not None else {}
        if not args.show_token and "accessToken" in body:
            body["accessToken"] = token_label(str(body["accessToken"]))
        extra: dict[str, Any] = {
            "tokenType": token.token_type,
            "expiresIn": f"{token.lifetime:g} s",
            "expiresAt": format_timestamp(token.expires_at.timestamp()),
            "accessToken": token.value if args.show_token else token_label(token.value),
        }
        return Outcome(
            ok=True,
            url=client.base_url + TOKEN_PATH,
            http_status=answer.http_status if answer is not None else None,
            response_code=answer.response_code() if answer is not None else None,
            response_message=str(body.get("responseMessage") or ""),
            external_id=None,
            attempts=sum(1 for e in recorder.exchanges if e.path == TOKEN_PATH),
            body=body,
            exchanges=tuple(recorder.exchanges),
            extra=extra,
        )

    return await _with_client(args, work)


async def _call(args: argparse.Namespace) -> Outcome:
    from .._errors import APIError
    from .._wire import validate_external_id

    path = validate_path(args.path, "PATH")
    body = encode_json_file(read_body(args.bodyfile), args.encode)
    external_id = validate_external_id(args.external_id) if args.external_id else None
    reference = _reference(body)

    async def work(client: AyolinxClient, recorder: _Recorder) -> Outcome:
        try:
            # The exact bytes (already encoded) and the reference an unknown outcome names.
            answer = await client.request(
                path,
                body,
                idempotent=args.idempotent,
                external_id=external_id,
                reference=reference,
            )
        except APIError as exc:
            return _failure(exc, client.base_url, recorder)
        return Outcome(
            ok=True,
            url=client.base_url + path,
            http_status=answer.http_status,
            response_code=answer.response_code.value,
            response_message=answer.response_message,
            external_id=answer.external_id,
            attempts=answer.attempts,
            body=dict(answer.body),
            exchanges=tuple(recorder.exchanges),
        )

    return await _with_client(args, work)


def _runner(
    work: Callable[[argparse.Namespace], Awaitable[Outcome]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import anyio

        outcome = anyio.run(work, args)
        if wants_json(args):
            emit_json(outcome.to_json())
        else:
            sys.stdout.write(outcome.render())
        return ExitCode.OK if outcome.ok else ExitCode.FAILED

    return run


TOKEN_COMMAND = Command(
    name="token",
    help="request an access token from the configured environment (AYOLINX_* variables)",
    description=__doc__,
    configure=_configure_token,
    run=_runner(_token),
    json_output=True,
)

#: Built like ``token``: this module's description, an ``Outcome`` printed or as JSON.
CALL_COMMAND = attrs.evolve(
    TOKEN_COMMAND,
    name="call",
    help="send a signed request to any endpoint of the configured environment",
    configure=_configure_call,
    run=_runner(_call),
)

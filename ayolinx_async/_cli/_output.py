"""Shared plumbing for the ``ayolinx`` tools: exit codes, one-line errors, ``--json`` output,
and reading bodies and secrets from files or the environment (never from argv)."""

from __future__ import annotations

import argparse
import enum
import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from .._wire import BodyEncoding, encode_body, parse_timestamp

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "BODY_ENCODINGS",
    "CliError",
    "ExitCode",
    "NetworkError",
    "OneLineParser",
    "UsageError",
    "add_global_options",
    "describe_error",
    "emit_json",
    "encode_json_file",
    "fingerprint",
    "global_options",
    "read_body",
    "read_secret",
    "read_secret_file",
    "token_label",
    "validate_path",
    "validate_timestamp",
    "wants_json",
]


class ExitCode(enum.IntEnum):
    """What an ``ayolinx`` exit status means (documented in the README)."""

    OK = 0
    #: A signature did not verify, or Ayolinx answered with a failure ``responseCode``.
    FAILED = 1
    #: Bad or missing arguments, an unreadable input file, a file that would be overwritten.
    USAGE = 2
    #: Missing environment variables, an unusable key or password.
    CONFIGURATION = 3
    #: No usable answer: connection refused, timeout, dropped connection, non-JSON response.
    NETWORK = 4
    #: Interrupted with Ctrl-C.
    INTERRUPTED = 130


class CliError(Exception):
    """An error the CLI reports as one line, with the exit status it maps to."""

    exit_code: ExitCode = ExitCode.FAILED
    category = "error"

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(message)


class UsageError(CliError):
    """The command line is wrong (exit 2)."""

    exit_code = ExitCode.USAGE
    category = "usage error"


class NetworkError(CliError):
    """No usable connection: a port that cannot be bound, a host that cannot be reached (exit 4)."""

    exit_code = ExitCode.NETWORK
    category = "network error"


def describe_error(exc: BaseException) -> tuple[ExitCode, str, str]:
    """Map an exception to ``(exit status, category, one-line message)``."""
    from .._errors import (
        APIError,
        AyolinxError,
        ConfigurationError,
        OutcomeUnknownError,
        ResponseDecodeError,
        TransportError,
        ValidationError,
    )
    from ..callbacks._verify import CallbackRejected

    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        return describe_error(exc.exceptions[0])
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, CliError):
        return exc.exit_code, exc.category, message
    if isinstance(exc, ValidationError):
        return ExitCode.USAGE, "invalid input", message
    if isinstance(exc, ConfigurationError):
        return ExitCode.CONFIGURATION, "configuration error", message
    if isinstance(exc, OutcomeUnknownError):
        code, _, _ = describe_error(exc.cause)
        return code, "outcome unknown", message
    if isinstance(exc, TransportError | ResponseDecodeError):
        return ExitCode.NETWORK, "network error", f"{type(exc).__name__}: {message}"
    if isinstance(exc, APIError | CallbackRejected):
        return ExitCode.FAILED, "API error", message
    if isinstance(exc, AyolinxError):
        return ExitCode.FAILED, "error", f"{type(exc).__name__}: {message}"
    return ExitCode.FAILED, "internal error", f"{type(exc).__name__}: {message}"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit 2), not usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: usage error: {message} (see --help)\n")


def global_options() -> OneLineParser:
    """A parent parser holding ``--json`` and ``--debug`` for every (sub)command.

    Defaults are suppressed so an option given before the subcommand is not reset after it.
    """
    parent = OneLineParser(add_help=False)
    add_global_options(parent, default=argparse.SUPPRESS)
    return parent


def add_global_options(parser: argparse.ArgumentParser, *, default: Any = False) -> None:
    """Add ``--json`` and ``--debug`` to ``parser``."""
    group = parser.add_argument_group("output")
    group.add_argument(
        "--json", action="store_true", default=default, help="machine-readable JSON on stdout"
    )
    group.add_argument(
        "--debug", action="store_true", default=default, help="show tracebacks and SDK logs"
    )


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def emit_json(data: Mapping[str, Any], out: IO[str] | None = None) -> None:
    """Write one JSON document (UTF-8, indented) followed by a newline."""
    stream = out if out is not None else sys.stdout
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


def _read_path(value: str, what: str) -> bytes:
    """Bytes of a file named on the command line, or of stdin for ``-``."""
    if value == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(value).expanduser().read_bytes()
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {value!r} ({exc.strerror})") from None


def read_body(value: str, what: str = "BODYFILE") -> bytes:
    """The exact bytes of a body file (``-`` = stdin); they are hashed as they are."""
    return _read_path(value, what)


def read_secret_file(value: str, what: str) -> str:
    """A secret from a file (``-`` = stdin), surrounding whitespace and newline removed."""
    data = _read_path(value, what)
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UsageError(f"{what}: {value!r} is not UTF-8 text") from None
    if not text:
        raise UsageError(f"{what}: {value!r} is empty")
    return text


def read_secret(
    file_value: str | None, env_name: str, what: str, *, environ: Mapping[str, str] | None = None
) -> str | None:
    """A secret from ``--...-file`` if given, else from the environment variable, else None."""
    if file_value is not None:
        return read_secret_file(file_value, what)
    env = os.environ if environ is None else environ
    value = env.get(env_name, "").strip()
    return value or None


def encode_json_file(data: bytes, encoding: str, what: str = "BODYFILE") -> bytes:
    """Re-encode a JSON body the way the SDK would (``compact``/``php``), or keep it (``raw``)."""
    if encoding == "raw":
        return data
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{what} is not valid JSON ({exc}); use --encode raw to send it as is"
        ) from None
    if not isinstance(parsed, dict):
        raise UsageError(f"{what} must hold a JSON object")
    return encode_body(parsed, BodyEncoding(encoding))


#: ``--encode`` choices: the file's exact bytes, or the SDK's two JSON encodings.
BODY_ENCODINGS: Sequence[str] = ("raw", "compact", "php")


def validate_path(value: str, option: str = "--path") -> str:
    """A request path as signed: starts with ``/``; a full URL is refused with the fix."""
    from urllib.parse import urlsplit

    if value.startswith("/") and not any(c in value for c in " \t\r\n"):
        return value
    parts = urlsplit(value)
    if parts.scheme in {"http", "https"} and parts.netloc:
        suggestion = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        raise UsageError(f"{option} takes the path only, not a URL: did you mean {suggestion!r}?")
    raise UsageError(f"{option} must start with '/' and contain no spaces, got {value!r}")


def validate_timestamp(value: str) -> str:
    """An ``X-TIMESTAMP`` given on the command line (ISO-8601 with an explicit offset)."""
    try:
        parse_timestamp(value)
    except ValueError:
        raise UsageError(
            f"--timestamp {value!r} is not yyyy-MM-ddTHH:mm:ss with an offset"
            " (e.g. 2024-09-18T13:36:36+07:00)"
        ) from None
    return value


def fingerprint(key: rsa.RSAPublicKey) -> str:
    """``sha256:<hex>`` of the DER SubjectPublicKeyInfo (what ``openssl pkey -pubin -outform
    DER | openssl dgst -sha256`` prints), to tell keys apart without showing them."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def token_label(token: str) -> str:
    """A stand-in for an access token: its length and a short hash, never the value."""
    short = hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]
    return f"<access-token {len(token)} chars sha256:{short}>"

"""``ayolinx sign token|service|callback``: compute a string-to-sign and its signature.

Use it to compare with what Ayolinx (or your own code) computes. Secrets come from files or the
environment, never from the command line: the private key from ``--private-key-file`` or
``AYOLINX_PRIVATE_KEY`` / ``AYOLINX_PRIVATE_KEY_FILE``, its password from
``--private-key-password-file`` or ``AYOLINX_PRIVATE_KEY_PASSWORD``, the client secret from
``--client-secret-file`` or ``AYOLINX_CLIENT_SECRET``, the access token from
``--access-token-file`` or ``AYOLINX_ACCESS_TOKEN``. The string-to-sign is shown exactly (it
holds the token); the token's own line and the Authorization header are masked unless
``--show-secrets``. The client secret and private key are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from . import Command
from ._output import (
    BODY_ENCODINGS,
    ExitCode,
    UsageError,
    emit_json,
    encode_json_file,
    fingerprint,
    global_options,
    read_body,
    read_secret,
    token_label,
    validate_path,
    validate_timestamp,
    wants_json,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["COMMAND", "SignResult", "body_notes"]

_TOKEN_BODY = '{"grantType":"client_credentials"}'


def _add_timestamp(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timestamp",
        metavar="TS",
        help="X-TIMESTAMP to sign, e.g. 2024-09-18T13:36:36+07:00 (default: now, Jakarta time)",
    )


def _add_body(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "bodyfile", nargs="?", metavar="BODYFILE", help="file with the request body ('-' = stdin)"
    )
    parser.add_argument("--body", metavar="TEXT", help="the body as text instead of BODYFILE")
    parser.add_argument(
        "--encode",
        choices=BODY_ENCODINGS,
        default="raw",
        help="hash the exact bytes (raw, default) or re-encode the JSON as the SDK would"
        " (compact; php = PHP json_encode escaping)",
    )


def _add_private_key(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--private-key-file", metavar="PEM", help=help_text)
    parser.add_argument(
        "--private-key-password-file",
        metavar="FILE",
        help="password of an encrypted key (default: $AYOLINX_PRIVATE_KEY_PASSWORD)",
    )


def _configure(parser: argparse.ArgumentParser) -> None:
    schemes = parser.add_subparsers(dest="scheme", metavar="SCHEME", required=True)

    def scheme(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        leaf = schemes.add_parser(
            name,
            parents=[global_options()],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            help=help_text,
            description=description,
        )
        leaf.set_defaults(_prog=leaf.prog)  # error lines name the scheme
        return leaf

    token = scheme(
        "token",
        "access-token request: SHA256withRSA over clientKey|X-TIMESTAMP",
        "Sign an access-token request: base64 SHA256withRSA(merchant private key,"
        " clientKey + '|' + X-TIMESTAMP).",
    )
    token.add_argument("--client-key", help="client key (default: $AYOLINX_CLIENT_KEY)")
    _add_private_key(
        token,
        "merchant private key (default: $AYOLINX_PRIVATE_KEY or $AYOLINX_PRIVATE_KEY_FILE)",
    )
    _add_timestamp(token)

    service = scheme(
        "service",
        "service call: HMAC-SHA512 over METHOD:path:token:sha256(body):X-TIMESTAMP",
        "Sign a service call: base64 HMAC-SHA512(client secret,"
        " METHOD:path:accessToken:lowerhex(sha256(body)):X-TIMESTAMP).",
    )
    service.add_argument("--path", required=True, help="request path, e.g. /v1.0/qr/qr-mpm-query")
    service.add_argument("--method", default="POST", help="HTTP method (default POST)")
    service.add_argument(
        "--client-secret-file",
        metavar="FILE",
        help="file holding the client secret (default: $AYOLINX_CLIENT_SECRET)",
    )
    service.add_argument(
        "--access-token-file",
        metavar="FILE",
        help="file holding the access token, '-' = stdin (default: $AYOLINX_ACCESS_TOKEN)",
    )
    service.add_argument(
        "--client-key", help="client key for the X-PARTNER-ID header (default: $AYOLINX_CLIENT_KEY)"
    )
    service.add_argument(
        "--show-secrets", action="store_true", help="unmask the token line and Authorization header"
    )
    _add_timestamp(service)
    _add_body(service)

    callback = scheme(
        "callback",
        "callback from Ayolinx: SHA256withRSA over POST:path:sha256(body):X-TIMESTAMP",
        "Build the string a callback signature covers (and sign it with a test key):"
        " POST:<your callback path>:lowerhex(sha256(raw body)):X-TIMESTAMP. Ayolinx signs real"
        " callbacks with its own key; --private-key-file signs with yours (e.g. to test your"
        " endpoint against a key pair from 'ayolinx keygen').",
    )
    callback.add_argument(
        "--path", required=True, help="path of YOUR callback URL, e.g. /ayolinx/notify"
    )
    _add_private_key(callback, "test key to sign with (optional; never read from the environment)")
    _add_timestamp(callback)
    _add_body(callback)


@attrs.frozen(kw_only=True, slots=True)
class SignResult:
    """What ``ayolinx sign`` computed; ``fields`` are the rows of the human output."""

    scheme: str
    algorithm: str
    string_to_sign: str
    signature: str | None
    fields: dict[str, Any]
    headers: dict[str, str]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "algorithm": self.algorithm,
            **self.fields,
            "string_to_sign": self.string_to_sign,
            "signature": self.signature,
            "headers": self.headers,
            "notes": list(self.notes),
        }

    def render(self) -> str:
        rows: list[tuple[str, Any]] = []
        for name, value in self.fields.items():
            if isinstance(value, dict):  # body digests of the other encodings
                rows += [(f"sha256 if {k}", v) for k, v in value.items()]
            else:
                rows.append((name.replace("_", " "), value))
        rows += [("string-to-sign", self.string_to_sign)]
        rows += [("X-SIGNATURE", self.signature or "(no key given: nothing signed)")]
        width = max(len(label) for label, _ in rows)
        lines = [f"{self.scheme} signature ({self.algorithm})"]
        lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
        if self.signature is not None:
            lines.append("headers:")
            lines += [f"  {name}: {value}" for name, value in self.headers.items()]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def body_notes(body: bytes, encoding: str) -> tuple[list[str], dict[str, str]]:
    """Warnings about a raw body that the SDK would send differently, and the other digests."""
    from .._wire import BodyEncoding, encode_body
    from ..signing import body_digest

    notes: list[str] = []
    others: dict[str, str] = {}
    if encoding != "raw":
        return notes, others
    if body.endswith((b"\n", b"\r")):
        notes.append(
            "the body ends with a line break, which is part of the hash: send exactly these"
            " bytes, or strip it"
        )
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return notes, others
    if not isinstance(parsed, dict):
        return notes, others
    for choice in BodyEncoding:
        encoded = encode_body(parsed, choice)
        if encoded != body:
            others[choice.value] = body_digest(encoded)
    if "compact" in others:
        notes.append(
            "the body is not compact JSON; the SDK sends (and hashes) the compact form, sha256 "
            + others["compact"]
            + " (--encode compact signs that)"
        )
    return notes, others


def _body(args: argparse.Namespace) -> bytes:
    if args.bodyfile is not None and args.body is not None:
        raise UsageError("give BODYFILE or --body, not both")
    if args.body is not None:
        raw = args.body.encode("utf-8")
    elif args.bodyfile is not None:
        raw = read_body(args.bodyfile)
    else:
        raise UsageError("the body is missing: give BODYFILE, '-' for stdin, or --body TEXT")
    return encode_json_file(raw, args.encode, "--body" if args.body is not None else "BODYFILE")


def _timestamp(args: argparse.Namespace) -> str:
    from .._wire import format_timestamp

    if args.timestamp is not None:
        return validate_timestamp(args.timestamp)
    return format_timestamp(time.time())


def _password(args: argparse.Namespace) -> str | None:
    return read_secret(
        args.private_key_password_file,
        "AYOLINX_PRIVATE_KEY_PASSWORD",
        "--private-key-password-file",
    )


def _merchant_key(args: argparse.Namespace) -> rsa.RSAPrivateKey:
    """The merchant key from ``--private-key-file`` or the ``AYOLINX_PRIVATE_KEY*`` variables."""
    from .._errors import ConfigurationError
    from ..signing import load_private_key

    if args.private_key_file is not None:
        return load_private_key(Path(args.private_key_file).expanduser(), _password(args))
    text = os.environ.get("AYOLINX_PRIVATE_KEY", "").strip()
    path = os.environ.get("AYOLINX_PRIVATE_KEY_FILE", "").strip()
    if text:
        return load_private_key(text, _password(args))
    if path:
        return load_private_key(Path(path).expanduser(), _password(args))
    raise ConfigurationError(
        "no private key: pass --private-key-file or set AYOLINX_PRIVATE_KEY_FILE"
    )


def _test_key(args: argparse.Namespace) -> rsa.RSAPrivateKey | None:
    """The optional callback-signing key: only from ``--private-key-file``."""
    from ..signing import load_private_key

    if args.private_key_file is None:
        return None
    return load_private_key(Path(args.private_key_file).expanduser(), _password(args))


def _optional_client_key(args: argparse.Namespace) -> str | None:
    value = args.client_key or os.environ.get("AYOLINX_CLIENT_KEY", "").strip() or None
    if value is not None and any(c in value for c in "|\r\n"):
        raise UsageError("--client-key must not contain '|' or line breaks")
    return value


def _client_key(args: argparse.Namespace) -> str:
    from .._errors import ConfigurationError

    value = _optional_client_key(args)
    if value is None:
        raise ConfigurationError("no client key: pass --client-key or set AYOLINX_CLIENT_KEY")
    return value


def _sign_token(args: argparse.Namespace) -> SignResult:
    from ..signing import rsa_signature, token_string_to_sign

    client_key = _client_key(args)
    timestamp = _timestamp(args)
    key = _merchant_key(args)
    message = token_string_to_sign(client_key, timestamp)
    signature = rsa_signature(key, message)
    return SignResult(
        scheme="token",
        algorithm="SHA256withRSA, merchant private key, base64",
        string_to_sign=message,
        signature=signature,
        fields={
            "client_key": client_key,
            "timestamp": timestamp,
            "key": f"RSA-{key.key_size} {fingerprint(key.public_key())}",
        },
        headers={
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-CLIENT-KEY": client_key,
            "X-SIGNATURE": signature,
        },
        notes=(f"body to send (not signed): {_TOKEN_BODY}",),
    )


def _sign_service(args: argparse.Namespace) -> SignResult:
    from .._errors import ConfigurationError
    from ..signing import body_digest, hmac_signature, service_string_to_sign

    path = validate_path(args.path)
    method = args.method.strip().upper()
    if not method.isalpha():
        raise UsageError(f"--method {args.method!r} is not an HTTP method")
    if args.bodyfile == "-" and args.access_token_file == "-":
        raise UsageError("only one of BODYFILE and --access-token-file can be '-' (stdin)")
    body = _body(args)
    timestamp = _timestamp(args)
    secret = read_secret(args.client_secret_file, "AYOLINX_CLIENT_SECRET", "--client-secret-file")
    if secret is None:
        raise ConfigurationError(
            "no client secret: set AYOLINX_CLIENT_SECRET or pass --client-secret-file"
        )
    token = read_secret(args.access_token_file, "AYOLINX_ACCESS_TOKEN", "--access-token-file")
    if token is None:
        raise ConfigurationError(
            "no access token: set AYOLINX_ACCESS_TOKEN or pass --access-token-file"
            " (get one with 'ayolinx token --show-token')"
        )
    message = service_string_to_sign(method, path, token, body, timestamp)
    signature = hmac_signature(secret, message)
    shown = token if args.show_secrets else token_label(token)
    digest = body_digest(body)
    notes, others = body_notes(body, args.encode)
    headers = {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": signature,
    }
    client_key = _optional_client_key(args)
    if client_key is not None:
        headers["X-PARTNER-ID"] = client_key
    headers["X-EXTERNAL-ID"] = "<unique per request, digits, at most 36>"
    headers["Authorization"] = f"Bearer {shown}"
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "timestamp": timestamp,
        "body_bytes": len(body),
        "body_sha256": digest,
        "body_encoding": args.encode,
        "access_token": shown,
    }
    if others:
        fields["body_sha256_if_encoded"] = others
    return SignResult(
        scheme="service",
        algorithm="HMAC-SHA512, client secret, base64",
        string_to_sign=message,  # exact, token included: it is compared byte for byte
        signature=signature,
        fields=fields,
        headers=headers,
        notes=tuple(notes),
    )


def _sign_callback(args: argparse.Namespace) -> SignResult:
    from ..signing import body_digest, callback_string_to_sign, rsa_signature

    path = validate_path(args.path)
    body = _body(args)
    timestamp = _timestamp(args)
    key = _test_key(args)
    message = callback_string_to_sign("POST", path, body, timestamp)
    signature = rsa_signature(key, message) if key is not None else None
    notes, others = body_notes(body, args.encode)
    fields: dict[str, Any] = {
        "method": "POST",
        "path": path,
        "timestamp": timestamp,
        "body_bytes": len(body),
        "body_sha256": body_digest(body),
        "body_encoding": args.encode,
    }
    if others:
        fields["body_sha256_if_encoded"] = others
    if key is not None:
        fields["key"] = f"RSA-{key.key_size} {fingerprint(key.public_key())}"
    return SignResult(
        scheme="callback",
        algorithm="SHA256withRSA, the signer's private key, base64",
        string_to_sign=message,
        signature=signature,
        fields=fields,
        headers=(
            {
                "Content-Type": "application/json",
                "X-TIMESTAMP": timestamp,
                "X-SIGNATURE": signature,
            }
            if signature is not None
            else {}
        ),
        notes=tuple(notes),
    )


_SCHEMES = {"token": _sign_token, "service": _sign_service, "callback": _sign_callback}


def sign(args: argparse.Namespace) -> SignResult:
    """Compute the signature ``args`` ask for (raises ``UsageError``/``ConfigurationError``)."""
    return _SCHEMES[args.scheme](args)


def _run(args: argparse.Namespace) -> int:
    result = sign(args)
    if wants_json(args):
        emit_json(result.to_json())
    else:
        sys.stdout.write(result.render())
    return ExitCode.OK


COMMAND = Command(
    name="sign",
    help="compute a string-to-sign and signature (token, service call, callback)",
    description=__doc__,
    configure=_configure,
    run=_run,
    json_output=True,
)

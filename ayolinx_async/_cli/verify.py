"""``ayolinx verify-callback``: is this callback really from Ayolinx, and if not, why not?

Checks the RSA signature (SHA256withRSA with Ayolinx's public key over
``POST:<path>:<lowerhex sha256(raw body)>:<X-TIMESTAMP>``) and the timestamp window, the same
rules as the SDK's ``CallbackVerifier``. When the signature fails, it also tries the usual
mistakes: a documented Ayolinx path instead of your own callback path, a trailing slash or query
string, and a body that was re-formatted or saved with a final line break.
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
from ._output import ExitCode, emit_json, fingerprint, read_body, validate_path, wants_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["COMMAND", "DOCUMENTED_PATHS", "Hint", "Verdict", "verify_callback"]

#: Paths the docs print on notify pages (labels; Ayolinx signs your own path), plus the SDK's
#: default route. A signature that verifies with one of them says which path was signed.
DOCUMENTED_PATHS = (
    "/v1.0/qr/qr-mpm-notify",
    "/v1/qr/qr-mpm-notify",
    "/v1.0/transfer-va/payment",
    "/v1.0/debit/notify",
    "/ayolinx/notify",
)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--public-key",
        action="append",
        metavar="PEM",
        help="Ayolinx public key file; repeat for several (default: $AYOLINX_PUBLIC_KEY or"
        " $AYOLINX_PUBLIC_KEY_FILE)",
    )
    parser.add_argument(
        "--path",
        required=True,
        help="path of the URL Ayolinx called (your callback path, e.g. /ayolinx/notify)",
    )
    parser.add_argument("--timestamp", required=True, help="the X-TIMESTAMP header as received")
    parser.add_argument("--signature", required=True, help="the X-SIGNATURE header as received")
    parser.add_argument(
        "bodyfile", metavar="BODYFILE", help="the raw request body as received ('-' = stdin)"
    )
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--tolerance",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how far X-TIMESTAMP may be from now (default 3600: Ayolinx retries for an hour)",
    )
    window.add_argument(
        "--skip-time-check",
        action="store_true",
        help="do not check X-TIMESTAMP (e.g. for a callback captured earlier)",
    )


@attrs.frozen(kw_only=True, slots=True)
class Hint:
    """A variant under which the signature does verify, and what that means."""

    path: str
    body: str
    message: str


@attrs.frozen(kw_only=True, slots=True)
class Verdict:
    """The outcome of :func:`verify_callback`."""

    valid: bool
    reasons: tuple[str, ...]
    signature_valid: bool
    matched_key: str | None
    keys_tried: int
    path: str
    timestamp: str
    timestamp_checked: bool
    timestamp_ok: bool | None
    skew_seconds: float | None
    tolerance: float
    body_bytes: int
    body_sha256: str
    string_to_sign: str
    notes: tuple[str, ...] = ()
    hints: tuple[Hint, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reasons": list(self.reasons),
            "signature_valid": self.signature_valid,
            "matched_key": self.matched_key,
            "keys_tried": self.keys_tried,
            "path": self.path,
            "timestamp": {
                "value": self.timestamp,
                "checked": self.timestamp_checked,
                "ok": self.timestamp_ok,
                "skew_seconds": self.skew_seconds,
                "tolerance_seconds": self.tolerance,
            },
            "body_bytes": self.body_bytes,
            "body_sha256": self.body_sha256,
            "string_to_sign": self.string_to_sign,
            "notes": list(self.notes),
            "hints": [attrs.asdict(h) for h in self.hints],
        }


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _signature_bytes(signature: str) -> bytes | None:
    import base64
    import binascii

    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _path_variants(path: str) -> list[str]:
    """Other paths worth trying: slash and query variants of ``path``, then documented ones."""
    base, _, query = path.partition("?")
    variants = [base] if query else []
    if base != "/":
        variants.append(base.rstrip("/") if base.endswith("/") else base + "/")
    variants += DOCUMENTED_PATHS
    seen = {path}
    unique: list[str] = []
    for candidate in variants:
        if candidate not in seen:
            seen.add(candidate)
            unique.append(candidate)
    return unique


def _body_variants(body: bytes) -> list[tuple[str, bytes]]:
    """The body as given, then forms a framework or an editor might have turned it into."""
    from .._wire import BodyEncoding, encode_body

    variants: list[tuple[str, bytes]] = [("as given", body)]
    stripped = body.rstrip(b"\r\n \t")
    if stripped != body:
        variants.append(("without its trailing whitespace / line break", stripped))
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, dict):
        for encoding, label in (
            (BodyEncoding.COMPACT, "re-encoded as compact JSON"),
            (BodyEncoding.PHP, "re-encoded as PHP json_encode JSON"),
        ):
            encoded = encode_body(parsed, encoding)
            if all(encoded != known for _, known in variants):
                variants.append((label, encoded))
    return variants


def _hint_message(path: str, given_path: str, body_label: str) -> str:
    parts: list[str] = []
    if path != given_path:
        if path in DOCUMENTED_PATHS:
            parts.append(
                f"the signature verifies for path {path!r}: Ayolinx signed that path, not"
                f" {given_path!r}; verify with it (NotifyRoute(signed_path={path!r}))"
            )
        else:
            parts.append(
                f"the signature verifies for path {path!r}: use exactly the path Ayolinx called"
            )
    if body_label != "as given":
        parts.append(
            f"it verifies over BODYFILE {body_label}: BODYFILE is not the exact bytes received;"
            " verify over the raw request body, never re-serialised JSON"
        )
    return "; ".join(parts)


def _find_hints(
    keys: tuple[rsa.RSAPublicKey, ...], path: str, body: bytes, timestamp: str, signature: str
) -> tuple[Hint, ...]:
    from ..signing import callback_string_to_sign, verify_rsa

    hints: list[Hint] = []
    for body_label, candidate_body in _body_variants(body):
        paths = _path_variants(path)
        if body_label != "as given":
            paths = [path, *paths]
        for candidate_path in paths:
            message = callback_string_to_sign("POST", candidate_path, candidate_body, timestamp)
            if any(verify_rsa(key, message, signature) for key in keys):
                hints.append(
                    Hint(
                        path=candidate_path,
                        body=body_label,
                        message=_hint_message(candidate_path, path, body_label),
                    )
                )
    return tuple(hints)


def verify_callback(
    keys: tuple[rsa.RSAPublicKey, ...],
    *,
    path: str,
    timestamp: str,
    signature: str,
    body: bytes,
    tolerance: float,
    check_time: bool = True,
    now: float | None = None,
) -> Verdict:
    """Check a callback and explain the result; never raises for a bad callback."""
    from .._wire import parse_timestamp
    from ..signing import body_digest, callback_string_to_sign, verify_rsa

    reasons: list[str] = []
    notes: list[str] = []
    message = callback_string_to_sign("POST", path, body, timestamp)
    raw_signature = _signature_bytes(signature)
    matched: str | None = None
    if raw_signature is None:
        reasons.append("X-SIGNATURE is not valid base64")
    else:
        for key in keys:
            if verify_rsa(key, message, signature):
                matched = fingerprint(key)
                break
        if matched is None:
            reasons.append(
                f"the signature does not verify for path {path!r} with the given key"
                + ("s" if len(keys) > 1 else "")
            )
            sizes = {key.key_size // 8 for key in keys}
            if len(raw_signature) not in sizes:
                expected = " or ".join(str(s) for s in sorted(sizes))
                notes.append(
                    f"the signature is {len(raw_signature)} bytes; an RSA signature from these"
                    f" keys is {expected} bytes (an HMAC or a truncated header?)"
                )
    timestamp_ok: bool | None = None
    skew: float | None = None
    if check_time:
        try:
            moment = parse_timestamp(timestamp)
        except ValueError:
            timestamp_ok = False
            reasons.append("X-TIMESTAMP is not yyyy-MM-ddTHH:mm:ss with an offset")
        else:
            skew = moment.timestamp() - (time.time() if now is None else now)
            timestamp_ok = abs(skew) <= tolerance
            if skew > tolerance:
                reasons.append(
                    f"X-TIMESTAMP is {_duration(skew)} in the future (window ±{tolerance:g} s)"
                )
            elif -skew > tolerance:
                reasons.append(f"X-TIMESTAMP is {_duration(skew)} old (window ±{tolerance:g} s)")
    hints: tuple[Hint, ...] = ()
    if matched is None and raw_signature is not None:
        hints = _find_hints(keys, path, body, timestamp, signature)
    return Verdict(
        valid=not reasons,
        reasons=tuple(reasons),
        signature_valid=matched is not None,
        matched_key=matched,
        keys_tried=len(keys),
        path=path,
        timestamp=timestamp,
        timestamp_checked=check_time,
        timestamp_ok=timestamp_ok,
        skew_seconds=None if skew is None else round(skew, 3),
        tolerance=tolerance,
        body_bytes=len(body),
        body_sha256=body_digest(body),
        string_to_sign=message,
        notes=tuple(notes),
        hints=hints,
    )


def _keys(args: argparse.Namespace) -> tuple[rsa.RSAPublicKey, ...]:
    from .._errors import ConfigurationError
    from ..callbacks._verify import load_public_keys
    from ..signing import PublicKeySource

    sources: list[PublicKeySource]
    if args.public_key:
        sources = [Path(p).expanduser() for p in args.public_key]
    elif os.environ.get("AYOLINX_PUBLIC_KEY", "").strip():
        sources = [os.environ["AYOLINX_PUBLIC_KEY"]]
    elif os.environ.get("AYOLINX_PUBLIC_KEY_FILE", "").strip():
        sources = [Path(os.environ["AYOLINX_PUBLIC_KEY_FILE"].strip()).expanduser()]
    else:
        raise ConfigurationError(
            "no Ayolinx public key: pass --public-key or set AYOLINX_PUBLIC_KEY_FILE"
        )
    return load_public_keys(sources)


def _render(verdict: Verdict) -> str:
    if verdict.valid:
        head = f"VALID: the signature verifies with key {verdict.matched_key}"
        head += (
            f" and X-TIMESTAMP is within ±{verdict.tolerance:g} s"
            if verdict.timestamp_checked
            else " (X-TIMESTAMP not checked)"
        )
    else:
        head = "INVALID: " + "; ".join(verdict.reasons)
    if not verdict.timestamp_checked:
        when = "not checked"
    elif verdict.skew_seconds is None:
        when = "malformed"
    else:
        direction = "ahead" if verdict.skew_seconds > 0 else "ago"
        state = "ok" if verdict.timestamp_ok else "outside the window"
        when = f"{_duration(verdict.skew_seconds)} {direction}, {state}"
    rows = [
        ("path", verdict.path),
        ("X-TIMESTAMP", f"{verdict.timestamp} ({when})"),
        ("body", f"{verdict.body_bytes} bytes, sha256 {verdict.body_sha256}"),
        ("string-to-sign", verdict.string_to_sign),
        (
            "signature",
            f"verifies ({verdict.matched_key})"
            if verdict.signature_valid
            else f"does not verify ({verdict.keys_tried} key(s) tried)",
        ),
    ]
    lines = [head, *(f"  {label.ljust(14)}  {value}" for label, value in rows)]
    lines += [f"note: {note}" for note in verdict.notes]
    lines += [f"hint: {hint.message}" for hint in verdict.hints]
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace) -> int:
    from ..callbacks._verify import DEFAULT_TIMESTAMP_TOLERANCE
    from ._output import UsageError

    path = validate_path(args.path)
    tolerance = DEFAULT_TIMESTAMP_TOLERANCE if args.tolerance is None else args.tolerance
    if not tolerance > 0:
        raise UsageError("--tolerance must be a positive number of seconds")
    keys = _keys(args)
    body = read_body(args.bodyfile)
    verdict = verify_callback(
        keys,
        path=path,
        timestamp=args.timestamp.strip(),
        signature=args.signature.strip(),
        body=body,
        tolerance=tolerance,
        check_time=not args.skip_time_check,
    )
    if wants_json(args):
        emit_json(verdict.to_json())
    else:
        sys.stdout.write(_render(verdict))
    return ExitCode.OK if verdict.valid else ExitCode.FAILED


COMMAND = Command(
    name="verify-callback",
    help="check a callback's signature and timestamp, and say why it fails",
    description=__doc__,
    configure=_configure,
    run=_run,
    json_output=True,
)

"""Verification of requests Ayolinx sends to the merchant (docs/protocol.md §10.1, §10.3, §18).

Three checks, each over exactly what arrived: the RSA signature of a non-SNAP notify (over the raw
body bytes and the merchant's own callback path), the RSA signature of a token request
(``X-CLIENT-KEY|X-TIMESTAMP``) and the HMAC of a SNAP VA payment. Failures raise
:class:`CallbackRejected`, which carries the HTTP status and SNAP case code to answer with.
"""

from __future__ import annotations

import functools
import hmac
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import rsa

from .._errors import CallbackRejected, ConfigurationError
from .._secret import Secret
from .._wire import parse_timestamp
from ..signing import (
    PublicKeySource,
    callback_string_to_sign,
    load_public_key,
    service_string_to_sign,
    token_string_to_sign,
    verify_hmac,
    verify_rsa,
)
from ..signing._keys import read_key_bytes
from ..signing._verify import rsa_parameters

__all__ = [
    "DEFAULT_TIMESTAMP_TOLERANCE",
    "SERVICE_NOTIFY",
    "SERVICE_TOKEN",
    "SERVICE_VA_PAYMENT",
    "CallbackRejected",
    "CallbackVerifier",
    "HeaderSource",
    "Headers",
    "load_public_keys",
]

#: SNAP service codes used in the answers (docs/protocol.md §12): notify, VA payment, access token.
SERVICE_NOTIFY: Final = "56"
SERVICE_VA_PAYMENT: Final = "25"
SERVICE_TOKEN: Final = "73"

#: Ayolinx retries for about an hour (docs/protocol.md §18.1), so a tighter window would
#: drop real retries.
DEFAULT_TIMESTAMP_TOLERANCE: Final = 3600.0

_MAX_SIGNATURE_CHARS = 4096  # base64 of an RSA-8192 signature is 1368 chars
_HMAC_ALGORITHMS = frozenset({"sha512", "sha256"})

HeaderSource = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


_COLONLESS_OFFSET = re.compile(r"T[0-9:.]+[+-][0-9]{4}$")


@functools.lru_cache(maxsize=64)
def _instant(value: str) -> float:
    """Epoch seconds of an X-TIMESTAMP; bursts of callbacks share a handful of seconds.

    Tolerates an offset without its colon (``+0700``): Java's ``Z`` pattern, which the
    e-wallet page names (docs/protocol.md §19.3), prints it so. The signature covers
    the literal header.
    """
    if _COLONLESS_OFFSET.search(value):
        value = value[:-2] + ":" + value[-2:]
    return parse_timestamp(value).timestamp()


def _missing(name: str) -> CallbackRejected:
    return CallbackRejected(400, "02", f"Invalid Mandatory Field {name}", reason="missing_header")


def _unauthorized(detail: str, reason: str) -> CallbackRejected:
    return CallbackRejected(401, "00", f"Unauthorized. {detail}", reason=reason)


def _bad_timestamp() -> CallbackRejected:
    return CallbackRejected(400, "01", "Invalid Field Format X-TIMESTAMP", reason="bad_timestamp")


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes | bytearray) else value


def _view(headers: HeaderSource | Headers) -> Headers:
    """``headers`` as a :class:`Headers` view, made once per request (the handler's is reused)."""
    return headers if isinstance(headers, Headers) else Headers(headers)


#: Bytes that ``str.strip`` removes from a latin-1 name: a name holding one (never a valid HTTP
#: token) is read the general way, which strips names before comparing them.
_NAME_SPACE = re.compile(rb"[\t-\r\x1c- \x85\xa0]")
#: Lower-case letters, digits and the other HTTP token characters: a name made of these alone
#: needs neither the whitespace check nor lowering.
_LOWER_TOKEN = b"abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"


def _lowered(pairs: list[Any] | tuple[Any, ...]) -> dict[bytes, bytes | str] | None:
    """Byte-named pairs keyed by lower-cased name; ``None`` if a name then repeats."""
    try:
        raw = {name.lower(): value for name, value in pairs}
    except (TypeError, ValueError, AttributeError):
        return None
    return raw if len(raw) == len(pairs) else None


#: Lower-case byte names of the headers read on every callback (no per-read lower/encode).
_RAW_NAMES: Final = {
    name: name.lower().encode("ascii")
    for name in (
        "X-SIGNATURE",
        "X-TIMESTAMP",
        "X-CLIENT-KEY",
        "X-PARTNER-ID",
        "X-EXTERNAL-ID",
        "content-length",
    )
}


def _raw_name(name: str) -> bytes:
    """``name`` as a key of the raw pairs (lower-case latin-1 bytes), for names that
    ``_RAW_NAMES`` does not hold."""
    return name.lower().encode("latin-1", "replace")


class Headers:
    """Case-insensitive, read-only request headers from a mapping or raw ``(name, value)`` pairs.

    Raw pairs (ASGI, aiohttp) may repeat a name; :meth:`one` refuses a repeated security header
    instead of silently picking one of the values. Byte pairs with distinct names (every real
    callback) are kept as they came and decoded only when read: a callback reads four of its
    dozen headers (issue 15).
    """

    __slots__ = ("_raw", "_values")

    def __init__(self, source: HeaderSource | Headers) -> None:
        self._values: dict[str, list[str]] = {}
        if type(source) is list or type(source) is tuple:  # ASGI, aiohttp's raw_headers
            # Kept as sent when every name is bytes (one C join checks them all), distinct
            # case-insensitively and free of whitespace; else read the general way below.
            raw: dict[bytes, bytes | str] | None = None
            try:
                sent: dict[Any, Any] = dict(source)
                names = b"".join(sent)
            except (TypeError, ValueError):
                pass
            else:
                # What ASGI servers send: lower-case token characters only (one C pass; the
                # whitespace pattern below costs as much as the rest of this together).
                rest = names.translate(None, _LOWER_TOKEN)
                if not rest:
                    if len(sent) == len(source):  # else a name was sent twice
                        raw = sent
                elif not _NAME_SPACE.search(rest):
                    if not names.islower():  # others are lowered
                        raw = _lowered(source)
                    elif len(sent) == len(source):
                        raw = sent
            if raw is not None:
                self._raw: dict[bytes, bytes | str] | None = raw
                return
        self._raw = None
        if isinstance(source, Headers):
            self._raw, self._values = source._raw, source._values
            return
        pairs: Iterable[tuple[str | bytes, str | bytes]]
        # ``type(...) is dict`` first: an ABC isinstance check costs as much as the scan.
        if type(source) is dict or isinstance(source, Mapping):
            # Fast path for a str -> str mapping: one pass, no per-name lists. A case-variant
            # duplicate ("X-Signature" and "x-signature") shrinks the dict, and then the
            # careful path below sees it.
            fast: dict[str, list[str]] | None = {}
            for name, value in source.items():
                if not (isinstance(name, str) and isinstance(value, str)):
                    fast = None
                    break
                fast[name.strip().lower()] = [value.strip()]  # type: ignore[index]
            if fast is not None and len(fast) == len(source):
                self._values = fast
                return
            pairs = source.items()
        else:
            pairs = source
        values = self._values
        for name, value in pairs:
            values.setdefault(_text(name).strip().lower(), []).append(_text(value).strip())

    def _found(self, name: str) -> list[str] | None:
        raw = self._raw
        if raw is None:
            return self._values.get(name.lower())
        value = raw.get(_RAW_NAMES.get(name) or _raw_name(name))
        return None if value is None else [_text(value).strip()]

    def get(self, name: str) -> str | None:
        """The value of ``name`` (first one if repeated), or ``None``."""
        raw = self._raw
        if raw is not None:
            value = raw.get(_RAW_NAMES.get(name) or _raw_name(name))
            if type(value) is bytes:
                return value.decode("latin-1").strip()
            return None if value is None else _text(value).strip()
        found = self._values.get(name.lower())
        return found[0] if found else None

    def values(self, name: str) -> tuple[str, ...]:
        """Every value sent for ``name``, in order (empty if absent)."""
        return tuple(self._found(name) or ())

    def one(self, name: str) -> str:
        """The single non-empty value of a mandatory header; a 400 rejection otherwise."""
        raw = self._raw
        if raw is not None:  # names are distinct: nothing repeated to refuse
            value = raw.get(_RAW_NAMES.get(name) or _raw_name(name))
            if type(value) is bytes:
                text = value.decode("latin-1").strip()
            else:
                text = "" if value is None else _text(value).strip()
            if not text:
                raise _missing(name)
            return text
        found = self._values.get(name.lower())
        if not found or not found[0]:
            raise _missing(name)
        if len(found) > 1:
            raise CallbackRejected(
                400, "01", f"Invalid Field Format {name}", reason="duplicate_header"
            )
        return found[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._found(name) is not None

    def __repr__(self) -> str:
        names = self._values if self._raw is None else [_text(n).strip() for n in self._raw]
        return f"Headers({sorted(names)})"


_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def load_public_keys(
    source: PublicKeySource | Sequence[PublicKeySource],
) -> tuple[rsa.RSAPublicKey, ...]:
    """Load one or several Ayolinx public keys (rotation); a PEM text may hold several blocks."""
    items: list[PublicKeySource]
    if isinstance(source, str | bytes | rsa.RSAPublicKey | os.PathLike):
        items = [source]
    else:
        items = list(source)
    keys: list[rsa.RSAPublicKey] = []
    for item in items:
        if not isinstance(item, rsa.RSAPublicKey):
            # Text, bytes or a file: a rotation file holds several PEM blocks.
            data = read_key_bytes(item, "ayolinx_public_key")
            blocks = _PEM_BLOCK.findall(data)
            if len(blocks) > 1:
                keys.extend(load_public_key(b, what="ayolinx_public_key") for b in blocks)
                continue
        keys.append(load_public_key(item, what="ayolinx_public_key"))
    if not keys:
        raise ConfigurationError("ayolinx_public_keys: at least one public key is required")
    return tuple(keys)


class CallbackVerifier:
    """Checks signatures and timestamps on requests from Ayolinx; holds no per-request state.

    ``public_keys``: Ayolinx's RSA key(s); a signature valid under any of them passes.
    ``client_secret`` keys the SNAP VA payment HMAC (``hmac_algorithms``: ``sha512`` and/or
    ``sha256``, since the docs disagree, docs/protocol.md §19.7). ``tolerance``: seconds a timestamp
    may be off in either direction. ``clock``: returns epoch seconds.
    """

    __slots__ = ("__secret", "_algorithms", "_clock", "_keys", "_tolerance")

    def __init__(
        self,
        public_keys: PublicKeySource | Sequence[PublicKeySource],
        *,
        client_secret: str | None = None,
        hmac_algorithms: Sequence[str] = ("sha512",),
        tolerance: float = DEFAULT_TIMESTAMP_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = load_public_keys(public_keys)
        rsa_parameters()  # load the RSA padding/hash now, not inside the first callback
        algorithms = tuple(a.lower() for a in hmac_algorithms)
        if not algorithms or not set(algorithms) <= _HMAC_ALGORITHMS:
            raise ConfigurationError("hmac_algorithms must be a non-empty subset of sha512, sha256")
        if not tolerance > 0:
            raise ConfigurationError("timestamp tolerance must be a positive number of seconds")
        if client_secret is not None and not client_secret:
            raise ConfigurationError("client_secret must not be empty")
        self._algorithms = algorithms
        self._tolerance = float(tolerance)
        self._clock = clock
        self.__secret = None if client_secret is None else Secret(client_secret)

    def __repr__(self) -> str:
        return (
            f"<CallbackVerifier keys={len(self._keys)} tolerance={self._tolerance:g}s"
            f" hmac={'/'.join(self._algorithms)}>"
        )

    @property
    def tolerance(self) -> float:
        return self._tolerance

    @property
    def public_keys(self) -> tuple[rsa.RSAPublicKey, ...]:
        return self._keys

    def check_timestamp(self, headers: HeaderSource | Headers) -> str:
        """Return ``X-TIMESTAMP`` if well-formed and within the window on either side."""
        return self._timely(_view(headers).one("X-TIMESTAMP"))

    def _timely(self, value: str) -> str:
        """``value`` (an ``X-TIMESTAMP``) if well-formed and within the window."""
        if not value.isascii():  # a '\d' pattern and fromisoformat accept non-ASCII digits
            raise _bad_timestamp()
        try:
            instant = _instant(value)
        except (ValueError, OverflowError):
            raise _bad_timestamp() from None
        skew = instant - self._clock()
        if skew > self._tolerance:
            raise _unauthorized("Timestamp is in the future", "future_timestamp")
        if -skew > self._tolerance:
            raise _unauthorized("Timestamp is too old", "stale_timestamp")
        return value

    def _signature(self, headers: Headers) -> Secret:
        """``X-SIGNATURE``, held as a :class:`Secret` so no frame or repr shows it."""
        signature = Secret(headers.one("X-SIGNATURE"))
        if len(signature) > _MAX_SIGNATURE_CHARS:
            raise _unauthorized("Signature", "bad_signature")
        return signature

    def _rsa_ok(self, message: str, signature: str) -> bool:
        keys = self._keys
        if len(keys) == 1:
            return verify_rsa(keys[0], message, signature)
        # Try every key (no early exit): which key matched is not worth leaking via timing.
        return any([verify_rsa(key, message, signature) for key in keys])

    def verify_notification(
        self,
        *,
        path: str,
        headers: HeaderSource | Headers,
        body: bytes,
        method: str = "POST",
    ) -> str:
        """Verify a non-SNAP notify (docs/protocol.md §10.1); return its ``X-TIMESTAMP``.

        ``path`` is the merchant's own callback path as Ayolinx called it; ``body`` the raw
        received bytes (never re-serialised JSON).
        """
        # Rebound so a crash report's frame locals show the redacted view, not the raw headers.
        headers = view = headers if type(headers) is Headers else _view(headers)
        signature = self._signature(view)
        timestamp = self._timely(view.one("X-TIMESTAMP"))
        message = callback_string_to_sign(method, path, bytes(body), timestamp)
        if not self._rsa_ok(message, signature):
            raise _unauthorized("Signature", "bad_signature")
        return timestamp

    def verify_token_request(self, *, client_key: str, headers: HeaderSource | Headers) -> str:
        """Verify Ayolinx's call to the merchant's token endpoint (docs/protocol.md §18.4.1); return
        the ``X-TIMESTAMP``. ``X-CLIENT-KEY`` must be ``client_key`` (compared in constant time)."""
        headers = view = _view(headers)
        sent_key = view.one("X-CLIENT-KEY")
        signature = self._signature(view)
        timestamp = view.one("X-TIMESTAMP")
        if not hmac.compare_digest(sent_key.encode("utf-8"), client_key.encode("utf-8")):
            raise _unauthorized("Unknown client", "unknown_client")
        self.check_timestamp(view)
        if not self._rsa_ok(token_string_to_sign(sent_key, timestamp), signature):
            raise _unauthorized("Signature", "bad_signature")
        return timestamp

    def verify_service_signature(
        self,
        *,
        path: str,
        access_token: str,
        headers: HeaderSource | Headers,
        body: bytes,
        method: str = "POST",
    ) -> str:
        """Verify the HMAC of a SNAP call (VA payment, docs/protocol.md §10.3); return its
        ``X-TIMESTAMP``.

        String to sign: ``POST:<path>:<token>:<sha256hex(body)>:<X-TIMESTAMP>``, keyed by the
        client secret; each configured algorithm is tried, compared in constant time. The token,
        the signature and the string to sign are held as :class:`Secret` (crash reports).
        """
        access_token = Secret(access_token)
        if self.__secret is None:
            raise ConfigurationError("client_secret is required to verify SNAP signatures")
        headers = view = _view(headers)
        signature = self._signature(view)
        timestamp = self.check_timestamp(view)
        message = Secret(service_string_to_sign(method, path, access_token, bytes(body), timestamp))
        results = [
            verify_hmac(self.__secret, message, signature, algorithm)
            for algorithm in self._algorithms
        ]
        if not any(results):
            raise _unauthorized("Signature", "bad_signature")
        return timestamp

"""Wire-level primitives: canonical body bytes, Jakarta timestamps, X-EXTERNAL-ID values.

All pure (or CSPRNG-backed) so they can be tested against known answers.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ._errors import ValidationError

__all__ = [
    "JAKARTA",
    "BodyEncoding",
    "encode_body",
    "format_timestamp",
    "new_external_id",
    "parse_timestamp",
    "validate_external_id",
]

#: Asia/Jakarta has no daylight saving time; a fixed offset avoids a tzdata dependency.
JAKARTA = timezone(timedelta(hours=7), "WIB")


class BodyEncoding(enum.Enum):
    """How a request body is serialised before it is hashed and sent (docs/protocol.md §9, §7)."""

    #: Compact JSON, UTF-8, ``/`` and non-ASCII left as they are (Java/Go/Python integrations).
    COMPACT = "compact"
    #: PHP ``json_encode`` default flags: ``/`` escaped, non-ASCII as ``\\u`` escapes.
    PHP = "php"


# Built once: json.dumps() with non-default options constructs a new encoder on every call.
_COMPACT_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_PHP_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False)


#: A ``JSONDecoder``'s own scanner (``scan_once``, C when available): what ``raw_decode``
#: calls; undocumented and left out by typeshed, but set by every ``JSONDecoder.__init__``.
JsonScan = Callable[[str, int], tuple[Any, int]]
#: The plain decoder's scanner: ``json.loads`` without keywords.
PLAIN_SCAN: JsonScan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def scan_object(raw: bytes, scan: JsonScan = PLAIN_SCAN) -> Any:
    """``json.loads(raw)`` for the usual body, a UTF-8 JSON object from its first byte, with
    ``scan`` (a decoder's ``scan_once``): without the encoding sniff and the two whitespace
    regex passes, a third of a response's decode (issue 15). ``None`` for any other body, or
    one that does not scan: the caller then runs its ``json.loads`` for the exact error."""
    if type(raw) is not bytes or raw[:1] != b"{" or raw[1:2] == b"\x00":
        return None  # not an object, or UTF-16/32 (json.detect_encoding's rule)
    try:
        text = raw.decode("utf-8", "surrogatepass")
        value, end = scan(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return None  # JSON's whitespace only after the value, as JSONDecoder.decode allows
    return value


def encode_body(
    body: Mapping[str, Any] | bytes, encoding: BodyEncoding = BodyEncoding.COMPACT
) -> bytes:
    """Serialise ``body`` once; the returned bytes are both hashed and sent.

    ``bytes`` pass through untouched so a caller can sign a body it encoded itself.
    Field order is kept as given.
    """
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    try:
        if encoding is BodyEncoding.PHP:
            text = _PHP_ENCODER.encode(body)
            # "/" only occurs inside JSON strings, so a plain replace is exact.
            return text.replace("/", "\\/").encode("ascii")
        return _COMPACT_ENCODER.encode(body).encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError (lone surrogate) is a ValueError
        raise ValidationError("body", f"cannot be encoded as JSON ({type(exc).__name__})") from None


def format_timestamp(epoch_seconds: float) -> str:
    """Render an instant as SNAP ``X-TIMESTAMP`` in Jakarta time.

    Example: ``2024-09-18T13:36:36+07:00`` (seconds precision, explicit offset).
    """
    return _format_second(int(epoch_seconds))


@functools.lru_cache(maxsize=4)
def _format_second(second: int) -> str:
    """Calls within one second share the text (a pure function of the second)."""
    moment = datetime.fromtimestamp(second, tz=UTC).astimezone(JAKARTA)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+07:00")


_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)


def parse_timestamp(value: str) -> datetime:
    """Parse an ``X-TIMESTAMP`` (ISO-8601 with an explicit offset) into an aware datetime.

    Raises ``ValueError`` for anything else; naive times are refused because their instant is
    ambiguous.
    """
    if not _TIMESTAMP.match(value):
        raise ValueError("timestamp is not yyyy-MM-ddTHH:mm:ss with an explicit offset")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_external_id() -> str:
    """A fresh X-EXTERNAL-ID: 13 digits of epoch milliseconds + 20 CSPRNG digits (33 chars).

    Numeric (the VA pages' rule) and ≤ 36 characters (the header page's rule); 66 bits of
    randomness make a repeat within one day practically impossible.
    """
    while True:
        try:
            digits = _RANDOM_DIGITS.pop()  # atomic: threads never share one
        except IndexError:
            _RANDOM_DIGITS.extend(_random_digits())
        else:
            # Epoch milliseconds have had 13 digits since 2001 and will until 2286.
            return str(time.time_ns() // 1_000_000) + digits


#: Random 20-digit runs for :func:`new_external_id`, made a batch at a time: one
#: ``os.urandom`` per 256 ids rather than one or two per id, each a system call and
#: big-integer formatting (~10k instructions an id; issue 15). A forked child empties it:
#: it must not send the ids its parent will send.
_RANDOM_DIGITS: list[str] = []
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_RANDOM_DIGITS.clear)

#: Random bytes to digits: 0-249 to their last digit (so each digit is equally likely),
#: 250-255 dropped.
_TO_DIGIT = bytes(48 + byte % 10 for byte in range(256))
_DROPPED = bytes(range(250, 256))


def _random_digits(count: int = 256) -> list[str]:
    """``count`` runs of 20 uniformly random digits (fewer if too many bytes were dropped;
    the caller asks again)."""
    text = os.urandom(21 * count).translate(_TO_DIGIT, _DROPPED).decode("ascii")
    return [text[i : i + 20] for i in range(0, len(text) - 19, 20)][:count]


_EXTERNAL_ID = re.compile(r"^[0-9A-Za-z]{1,36}$")


def validate_external_id(value: str) -> str:
    """Check a caller-supplied X-EXTERNAL-ID: 1-36 ASCII letters or digits (docs/protocol.md §4)."""
    if not isinstance(value, str) or not _EXTERNAL_ID.match(value):
        raise ValidationError("external_id", "must be 1-36 ASCII letters or digits")
    return value


def body_reference(body: object) -> str | None:
    """The transaction reference a request body names (recorded on an OutcomeUnknownError)."""
    if type(body) is dict or isinstance(body, Mapping):
        for key in ("partnerReferenceNo", "trxId", "originalPartnerReferenceNo"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def body_channel(body: object) -> str | None:
    """``additionalInfo.channel`` of a request body (recorded on an OutcomeUnknownError)."""
    if type(body) is dict or isinstance(body, Mapping):
        info = body.get("additionalInfo")
        if isinstance(info, Mapping):
            value = info.get("channel")
            if isinstance(value, str) and value:
                return value
    return None

"""The decoded answer of one API call, with the raw bytes kept for audit and debugging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import ResponseCode

__all__ = ["APIResponse", "default_success_rule"]


@attrs.frozen(kw_only=True, slots=True)
class APIResponse:
    """A successful response: parsed JSON body plus everything needed to audit it."""

    http_status: int
    response_code: ResponseCode
    response_message: str
    #: Not in the repr: a token answer's body holds the access token, others personal data.
    body: Mapping[str, Any] = attrs.field(repr=False)
    raw: bytes = attrs.field(repr=False)
    headers: Mapping[str, str] = attrs.field(repr=False, factory=dict)
    external_id: str | None = None
    path: str = ""
    attempts: int = 1


def default_success_rule(http_status: int, code: ResponseCode) -> bool:
    """Spec §7.1 / §15.1: HTTP 2xx and a ``200xxxx`` code, or retail's bare ``"00"``."""
    if not 200 <= http_status < 300:
        return False
    return code.http_status == 200 or code.value == "00"

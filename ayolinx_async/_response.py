"""The decoded answer of one API call, with the raw bytes kept for audit and debugging."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._errors import ResponseCode, ResponseDecodeError, api_error_class
from ._frozen import maker
from ._wire import scan_object
from .transport._base import HttpResponse

__all__ = ["APIResponse", "SuccessRule", "decode_response", "default_success_rule", "peek_code"]

#: Decides whether an HTTP status and a ``responseCode`` together mean success.
SuccessRule = Callable[[int, ResponseCode], bool]


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


#: ``APIResponse(...)``, built with plain slot stores (every success makes one).
_new_api_response = maker(APIResponse)


def default_success_rule(http_status: int, code: ResponseCode) -> bool:
    """docs/protocol.md §12.3: HTTP 2xx and a ``200xxxx`` code, or retail's bare ``"00"``."""
    if not 200 <= http_status < 300:
        return False
    return code.http_status == 200 or code.value == "00"


def decode_response(
    response: HttpResponse,
    *,
    path: str,
    external_id: str | None,
    attempts: int,
    success_rule: SuccessRule = default_success_rule,
) -> APIResponse:
    """Decode one answer: the typed success, or raise the typed error it stands for.

    Pure (no I/O, no state): JSON object with a ``responseCode`` the ``success_rule``
    accepts → :class:`APIResponse`; a failure code → the :class:`APIError` subclass for
    it; anything else (empty, HTML, not an object) → :class:`ResponseDecodeError`.
    """
    status, raw = response.status_code, response.content
    if not raw.strip():
        raise _undecodable(response, "empty response body", path=path, external_id=external_id)
    data = scan_object(raw)
    try:
        if data is None:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        kind = "an HTML page" if raw.lstrip()[:1] == b"<" else "not valid JSON"
        raise _undecodable(
            response, f"response body is {kind}", path=path, external_id=external_id
        ) from None
    if not isinstance(data, dict):
        raise _undecodable(
            response, "response JSON is not an object", path=path, external_id=external_id
        )
    code_value = data.get("responseCode")
    code = ResponseCode.parse(code_value) if code_value is not None else None
    message = str(data.get("responseMessage") or "")
    if code is not None and success_rule(status, code):
        return _new_api_response(
            http_status=status,
            response_code=code,
            response_message=message,
            body=data,
            raw=raw,
            headers=response.headers,
            external_id=external_id,
            path=path,
            attempts=attempts,
        )
    if code is None and 200 <= status < 300:
        raise _undecodable(
            response, "response has no responseCode", path=path, external_id=external_id
        )
    cls = api_error_class(status, code)
    raise cls(
        http_status=status,
        response_code=code,
        message=message,
        body=data,
        raw=raw,
        external_id=external_id,
        path=path,
        headers=response.headers,
    )


def _undecodable(
    response: HttpResponse, message: str, *, path: str, external_id: str | None
) -> ResponseDecodeError:
    """The error for an answer that is not the JSON object with a code the API promises."""
    return ResponseDecodeError(
        message,
        http_status=response.status_code,
        raw=response.content,
        external_id=external_id,
        headers=response.headers,
        path=path,
    )


def peek_code(raw: bytes) -> str | None:
    """The ``responseCode`` of a body, for logs and hooks (``None`` when unreadable)."""
    data = scan_object(raw)
    try:
        if data is None:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = data.get("responseCode") if isinstance(data, dict) else None
    return None if value is None else str(value)

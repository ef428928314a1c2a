"""What usually causes a failure, said in the error itself: most Ayolinx integrations fail on
keys, signatures and URLs, and the raw code alone does not tell a newcomer which."""

from __future__ import annotations

from urllib.parse import urlsplit

from ._errors import APIError, ResponseDecodeError, ResponseError

__all__ = ["annotate", "hint_for"]

_TOKEN_SIGNATURE = (
    "the token signature was refused: the private key does not match the public key registered"
    " in the Ayolinx back office, or the client key is wrong (compare with `ayolinx sign token`"
    " and `ayolinx doctor`)"
)
_SERVICE_SIGNATURE = (
    "the request signature was refused: check the client secret (the HMAC key), and that the"
    " body was not changed after signing (the SDK sends the exact signed bytes; a proxy that"
    " re-encodes JSON breaks it); `ayolinx sign service` shows the string-to-sign"
)
_HTML = (
    "an HTML page answered, not Ayolinx: a proxy, firewall or load balancer replied (check"
    " HTTPS_PROXY/NO_PROXY and the base_url)"
)


def hint_for(error: ResponseError, *, base_url: str, token_call: bool) -> str | None:
    """The usual cause of ``error`` and what to check, or ``None`` when there is no safe guess."""
    if isinstance(error, ResponseDecodeError):
        return _HTML if error.raw.lstrip()[:1] == b"<" else None
    if not isinstance(error, APIError):
        return None
    code = error.response_code
    status = code.http_status if code is not None and code.http_status else error.http_status
    if status == 401 and code is not None and code.case_code == "00":
        return _TOKEN_SIGNATURE if token_call else _SERVICE_SIGNATURE
    if status == 404:
        extra = urlsplit(base_url).path.rstrip("/")
        if extra:
            return (
                f"base_url already ends in a path ({extra!r}): pass only the scheme and host,"
                " e.g. https://sandbox.ayolinx.id; the SDK adds /v1.0/… itself"
            )
    return None


def annotate(
    error: ResponseError, *, base_url: str, token_call: bool, timestamp: str | None
) -> None:
    """Record the attempt's X-TIMESTAMP and the hint on ``error`` (shown in ``str(error)``)."""
    error.timestamp = timestamp
    error.hint = hint_for(error, base_url=base_url, token_call=token_call)

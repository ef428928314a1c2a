"""The B2B token request (docs/protocol.md §8, §11): signed with the merchant's RSA key, sent
through the client's attempt sender, decoded into an :class:`AccessToken`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .._endpoints import TOKEN_PATH
from .._errors import ResponseDecodeError, ResponseError
from .._hints import annotate
from .._response import APIResponse, SuccessRule, decode_response, default_success_rule
from .._secret import RedactedHeaders, Secret
from .._wire import format_timestamp
from ..signing._signers import Signer
from ..signing._strings import token_string_to_sign
from ..transport._base import HttpResponse, Timeout
from .token import AccessToken

__all__ = ["TOKEN_BODY", "SendAttempt", "TokenFetcher"]

TOKEN_BODY = b'{"grantType":"client_credentials"}'
#: Lifetime assumed when the answer has no ``expiresIn`` (docs/protocol.md §11).
DEFAULT_LIFETIME = 900.0

#: ``send(path, headers, content, external_id, attempt, timeout)``: one attempt on the wire.
SendAttempt = Callable[
    [str, RedactedHeaders, bytes, str | None, int, Timeout], Awaitable[HttpResponse]
]


class TokenFetcher:
    """Makes one token request; the :class:`TokenCache` decides when (single-flight).

    The timeout is an argument, so a token fetched on behalf of a call with ``timeout=2`` is
    bounded by that call's remaining time.
    """

    __slots__ = (
        "_base_url",
        "_client_key",
        "_clock",
        "_default_timeout",
        "_send",
        "_signer",
        "_success",
    )

    def __init__(
        self,
        *,
        send: SendAttempt,
        signer: Signer,
        client_key: str,
        base_url: str,
        clock: Callable[[], float],
        default_timeout: Timeout,
        success_rule: SuccessRule = default_success_rule,
    ) -> None:
        self._send = send
        self._signer = signer
        self._client_key = client_key
        self._base_url = base_url
        self._clock = clock
        self._default_timeout = default_timeout
        self._success = success_rule

    async def __call__(self, timeout: Timeout | None = None) -> AccessToken:
        # Lifetime counts from when the request left, not when the answer arrived: under load
        # the round trip would otherwise overstate the token's life.
        sent_at = self._clock()
        timestamp = format_timestamp(sent_at)
        signature = Secret(
            await self._signer.sign_token(token_string_to_sign(self._client_key, timestamp))
        )
        headers = RedactedHeaders(
            {
                "Content-Type": "application/json",
                "X-TIMESTAMP": timestamp,
                "X-CLIENT-KEY": self._client_key,
                "X-SIGNATURE": signature,
            }
        )
        response = await self._send(
            TOKEN_PATH, headers, TOKEN_BODY, None, 1, timeout or self._default_timeout
        )
        try:
            api = decode_response(
                response, path=TOKEN_PATH, external_id=None, attempts=1, success_rule=self._success
            )
        except ResponseError as exc:
            annotate(exc, base_url=self._base_url, token_call=True, timestamp=timestamp)
            raise
        return token_from_answer(api, sent_at)


def token_from_answer(api: APIResponse, sent_at: float) -> AccessToken:
    """The token in a successful answer; a missing or unusable field is a decode error.

    The body is read through ``api`` (whose ``repr`` hides it) and never bound to a local of
    its own, so a crash report's frame locals do not show the token."""
    http_status = api.http_status
    value = api.body.get("accessToken")
    if not isinstance(value, str) or not value:
        raise _bad("token response has no accessToken", http_status)
    value = Secret(value)  # redacted in crash reports' frame locals
    expires_in = api.body.get("expiresIn", DEFAULT_LIFETIME)
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError, OverflowError):
        raise _bad("token response has a non-numeric expiresIn", http_status) from None
    if not 0 < lifetime < 10 * 365 * 86400:  # NaN and inf fail this too
        raise _bad("token response has an unusable expiresIn", http_status)
    token_type = api.body.get("tokenType")
    return AccessToken.from_lifetime(
        value,
        lifetime,
        sent_at,
        token_type if isinstance(token_type, str) and token_type else "Bearer",
    )


def _bad(message: str, http_status: int) -> ResponseDecodeError:
    return ResponseDecodeError(message, http_status=http_status, raw=b"", path=TOKEN_PATH)

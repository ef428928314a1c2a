"""The merchant's own ``POST /v1.0/access-token/b2b`` (docs/protocol.md §18.4.1).

Ayolinx asks the merchant for a token before a SNAP VA payment call. The issuer checks Ayolinx's
RSA signature over ``X-CLIENT-KEY|X-TIMESTAMP`` and that the client key is ours, hands out an
opaque random token, and later checks the ``Authorization: Bearer`` it comes back with. Only a
SHA-256 digest of each token is stored, so a dump of the store yields no usable token and a
lookup's timing says nothing about the token's characters. Store keys carry the merchant's
namespace (a digest of the client key), so a token issued for merchant B is never accepted by
merchant A on a shared store. Tokens are held as :class:`~ayolinx_async._secret.Secret`, so a
crash report's frame locals show none.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from .._errors import ConfigurationError
from .._secret import Secret
from ._events import decode_json_object
from ._stores import IssuedTokenStore, MemoryIssuedTokenStore, namespace_for, namespaced
from ._verify import CallbackRejected, CallbackVerifier, Headers, HeaderSource

__all__ = ["DEFAULT_TOKEN_TTL", "TokenIssuer"]

#: Seconds an issued token stays valid (SNAP's usual 900 s; Ayolinx uses it right away).
DEFAULT_TOKEN_TTL = 900

_GRANT_TYPE = "client_credentials"


def _invalid_token() -> CallbackRejected:
    return CallbackRejected(401, "01", "Invalid Token (B2B)", reason="invalid_token")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _bearer(authorization: str | None) -> Secret | None:
    """The token of a well-formed ``Bearer <token>`` value, else ``None``; never raises, so its
    frame (holding the plain header text) never shows in a traceback."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        return None
    return Secret(token)


class TokenIssuer:
    """Issues and validates the merchant's B2B access tokens for Ayolinx.

    ``client_key`` must equal the ``X-CLIENT-KEY`` Ayolinx sends; ``verifier`` holds Ayolinx's
    public key(s) and the timestamp window; ``store`` keeps token digests (memory by default);
    ``ttl`` is the lifetime in whole seconds. ``require_grant_type`` rejects a body without
    ``grantType``/``grant_type`` (off by default: the signature is what authenticates).
    ``namespace`` prefixes every store key (default: :func:`namespace_for` the client key;
    ``""`` shares keys with every issuer on the same store).
    """

    __slots__ = (
        "_client_key",
        "_clock",
        "_namespace",
        "_require_grant",
        "_store",
        "_ttl",
        "_verifier",
    )

    def __init__(
        self,
        *,
        client_key: str,
        verifier: CallbackVerifier,
        store: IssuedTokenStore | None = None,
        ttl: int = DEFAULT_TOKEN_TTL,
        clock: Callable[[], float] = time.time,
        require_grant_type: bool = False,
        namespace: str | None = None,
    ) -> None:
        if not isinstance(client_key, str) or not client_key.strip():
            raise ConfigurationError("client_key must be a non-empty string")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
            raise ConfigurationError("token ttl must be a whole number of seconds >= 1")
        if namespace is not None and not isinstance(namespace, str):
            raise ConfigurationError("namespace must be a string")
        self._namespace = namespace_for(client_key) if namespace is None else namespace
        self._client_key = client_key
        self._verifier = verifier
        # ``is None``, not ``or``: an empty memory store is falsy (it has ``__len__``).
        self._store: IssuedTokenStore = (
            store if store is not None else MemoryIssuedTokenStore(clock=clock)
        )
        self._ttl = ttl
        self._clock = clock
        self._require_grant = require_grant_type

    def __repr__(self) -> str:
        if not hasattr(self, "_store"):  # a constructor that raised (crash reports show it)
            return "<TokenIssuer (not configured)>"
        return f"<TokenIssuer ttl={self._ttl}s store={type(self._store).__name__}>"

    @property
    def ttl(self) -> int:
        return self._ttl

    @property
    def store(self) -> IssuedTokenStore:
        return self._store

    @property
    def namespace(self) -> str:
        """The prefix of this issuer's keys in its store."""
        return self._namespace

    def _key(self, token: str) -> str:
        return namespaced(self._namespace, _digest(token))

    def _check_body(self, body: bytes) -> None:
        # The signature covers headers only, so the body is read after it is verified.
        data = decode_json_object(body) if body.strip() else {}
        grant = data.get("grantType", data.get("grant_type"))
        if grant is None:
            if self._require_grant:
                raise CallbackRejected(
                    400, "02", "Invalid Mandatory Field grantType", reason="missing_field"
                )
            return
        if not isinstance(grant, str) or grant.strip() != _GRANT_TYPE:
            raise CallbackRejected(
                400, "01", "Invalid Field Format grantType", reason="bad_grant_type"
            )

    async def issue(self, headers: HeaderSource | Headers, body: bytes) -> dict[str, Any]:
        """Verify a token request and return the ``2007300`` answer body with a fresh token.

        Raises :class:`CallbackRejected` (service 73) on a bad signature, unknown client key,
        out-of-window timestamp or malformed body.
        """
        self._verifier.verify_token_request(client_key=self._client_key, headers=headers)
        self._check_body(bytes(body))
        token = Secret(secrets.token_urlsafe(32))
        expires_at = self._clock() + self._ttl
        await self._store.set(self._key(token), repr(expires_at), self._ttl)
        return {
            "responseCode": "2007300",
            "responseMessage": "Successful",
            "accessToken": token,
            "tokenType": "Bearer",
            "expiresIn": str(self._ttl),
        }

    async def validate(self, authorization: str | None) -> Secret:
        """Check an ``Authorization`` header value; return the token (a :class:`Secret`) if we
        issued it and it has not expired, else raise :class:`CallbackRejected` (401, case 01)."""
        token = _bearer(authorization)
        del authorization  # the plain header text must not outlive this line in the frame
        if token is None:
            raise _invalid_token()
        stored = await self._store.get(self._key(token))
        if stored is None:
            raise _invalid_token()
        try:
            expires_at = float(stored)
        except ValueError:
            raise _invalid_token() from None
        if not math.isfinite(expires_at) or expires_at <= self._clock():
            raise _invalid_token()
        return token

    async def revoke(self, token: str) -> None:
        """Forget a token before it expires."""
        await self._store.delete(self._key(token))

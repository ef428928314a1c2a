"""Request authentication exactly as the spec describes it (docs/protocol.md §4, §8, §9, §11).

Token requests: RSA SHA256withRSA over ``X-CLIENT-KEY|X-TIMESTAMP`` with the registered
merchant public key. Service requests: HMAC-SHA512 over ``POST:path:token:sha256(raw body):ts``
keyed by the merchant secret, a live token, a matching ``X-PARTNER-ID``, a fresh timestamp and
an X-EXTERNAL-ID not used today. Failures raise :class:`Rejected` carrying the SNAP answer.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping

import attrs

from .._endpoints import Endpoint
from .._wire import parse_timestamp
from ..signing._strings import service_string_to_sign, token_string_to_sign
from ..signing._verify import verify_hmac, verify_rsa
from ._accounts import MerchantAccount
from ._asgi import Request
from ._codes import Case, Outcome
from ._ledger import ExternalIdRegistry

__all__ = [
    "SERVICE_HEADERS",
    "TOKEN_HEADERS",
    "Authenticated",
    "Rejected",
    "IssuedTokens",
    "authenticate_service",
    "authenticate_token_request",
]

#: Required headers, checked in this order (docs/protocol.md §4 table).
TOKEN_HEADERS = ("Content-Type", "X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE")
SERVICE_HEADERS = (
    "Content-Type",
    "X-TIMESTAMP",
    "X-SIGNATURE",
    "X-PARTNER-ID",
    "X-EXTERNAL-ID",
    "Authorization",
)

_ALNUM_ID = re.compile(r"^[0-9A-Za-z]{1,36}$")
_NUMERIC_ID = re.compile(r"^[0-9]{1,36}$")


class Rejected(Exception):
    """The request fails a check; ``outcome`` is the SNAP answer to send."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        super().__init__(f"{outcome.code} {outcome.message}")


@attrs.frozen(kw_only=True, slots=True)
class Authenticated:
    """A service request that passed every check."""

    account: MerchantAccount
    external_id: str
    token: str = attrs.field(repr=False)


@attrs.define(slots=True)
class _Issued:
    client_key: str
    expires_at: float


class IssuedTokens:
    """B2B tokens issued by the simulator, with their owner and expiry (sim clock)."""

    def __init__(self) -> None:
        self._tokens: dict[str, _Issued] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    def issue(self, client_key: str, now: float, lifetime: float) -> str:
        """A new opaque token for ``client_key``; expired ones are forgotten on the way."""
        for value in [v for v, t in self._tokens.items() if t.expires_at <= now]:
            del self._tokens[value]
        value = secrets.token_urlsafe(32)
        self._tokens[value] = _Issued(client_key=client_key, expires_at=now + lifetime)
        return value

    def owner(self, value: str, now: float) -> str | None:
        """The client key a live token belongs to, or None (unknown or expired)."""
        issued = self._tokens.get(value)
        if issued is None:
            return None
        if issued.expires_at <= now:
            del self._tokens[value]
            return None
        return issued.client_key

    def revoke_all(self) -> int:
        """Invalidate every token (as if the gateway restarted); returns how many."""
        count = len(self._tokens)
        self._tokens.clear()
        return count


def _fail(case: Case, endpoint: Endpoint, detail: str | None = None) -> Rejected:
    return Rejected(Outcome.failure(case, endpoint.service_code, detail))


def _require_headers(request: Request, names: tuple[str, ...], endpoint: Endpoint) -> None:
    for name in names:
        if not request.headers.get(name.lower(), "").strip():
            raise _fail(Case.MISSING_FIELD, endpoint, name)
    media_type = request.headers["content-type"].split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise _fail(Case.INVALID_FORMAT, endpoint, "Content-Type")


def _check_timestamp(request: Request, endpoint: Endpoint, now: float, tolerance: float) -> str:
    value = request.headers["x-timestamp"]
    try:
        moment = parse_timestamp(value)
    except ValueError:
        raise _fail(Case.INVALID_FORMAT, endpoint, "X-TIMESTAMP") from None
    if abs(moment.timestamp() - now) > tolerance:
        raise _fail(Case.UNAUTHORIZED, endpoint, "X-TIMESTAMP outside the allowed window")
    return value


def authenticate_token_request(
    request: Request,
    accounts: Mapping[str, MerchantAccount],
    *,
    now: float,
    tolerance: float,
) -> MerchantAccount:
    """Check a ``POST /v1.0/access-token/b2b``; return the merchant it authenticates."""
    endpoint = Endpoint.TOKEN
    _require_headers(request, TOKEN_HEADERS, endpoint)
    timestamp = _check_timestamp(request, endpoint, now, tolerance)
    client_key = request.headers["x-client-key"]
    account = accounts.get(client_key)
    if account is None:
        raise _fail(Case.UNAUTHORIZED, endpoint, "Unknown client")
    message = token_string_to_sign(client_key, timestamp)
    if not verify_rsa(account.public_key, message, request.headers["x-signature"]):
        raise _fail(Case.UNAUTHORIZED, endpoint, "Signature")
    _check_token_body(request.body)
    return account


def _check_token_body(body: bytes) -> None:
    """The SNAP body is ``{"grantType":"client_credentials"}``; Ayolinx was seen to accept an
    empty body and ``[]`` too (docs/protocol.md §11), so only a present, wrong grant
    type is refused."""
    endpoint = Endpoint.TOKEN
    if not body.strip():
        return
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _fail(Case.BAD_REQUEST, endpoint) from None
    if data == []:
        return
    if not isinstance(data, dict):
        raise _fail(Case.BAD_REQUEST, endpoint)
    for name in ("grantType", "grant_type"):
        if name in data and data[name] != "client_credentials":
            raise _fail(Case.INVALID_FORMAT, endpoint, name)


def authenticate_service(
    request: Request,
    endpoint: Endpoint,
    accounts: Mapping[str, MerchantAccount],
    tokens: IssuedTokens,
    external_ids: ExternalIdRegistry,
    *,
    now: float,
    tolerance: float,
    numeric_external_id: bool = False,
) -> Authenticated:
    """Check a signed service request; claims its X-EXTERNAL-ID only once all else passed."""
    _require_headers(request, SERVICE_HEADERS, endpoint)
    timestamp = _check_timestamp(request, endpoint, now, tolerance)
    scheme, _, token = request.headers["authorization"].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _fail(Case.INVALID_TOKEN, endpoint)
    owner = tokens.owner(token, now)
    if owner is None:
        raise _fail(Case.INVALID_TOKEN, endpoint)
    partner_id = request.headers["x-partner-id"]
    account = accounts.get(owner)
    if partner_id != owner or account is None:
        raise _fail(Case.UNAUTHORIZED, endpoint, "X-PARTNER-ID does not match the token")
    external_id = request.headers["x-external-id"]
    pattern = _NUMERIC_ID if numeric_external_id else _ALNUM_ID
    if not pattern.match(external_id):
        raise _fail(Case.INVALID_FORMAT, endpoint, "X-EXTERNAL-ID")
    # Sign-check the raw received bytes: the path is the request path, never a re-encoded body.
    message = service_string_to_sign(request.method, request.path, token, request.body, timestamp)
    if not verify_hmac(account.client_secret, message, request.headers["x-signature"]):
        raise _fail(Case.UNAUTHORIZED, endpoint, "Signature")
    if not external_ids.claim(owner, external_id, now):
        raise _fail(Case.DUPLICATE_EXTERNAL_ID, endpoint, "X-EXTERNAL-ID already used today")
    return Authenticated(account=account, external_id=external_id, token=token)

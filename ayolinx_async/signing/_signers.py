"""Signing strategies: where the private key and client secret live is the signer's business.

The client only ever hands a signer a string-to-sign. :class:`LocalSigner` keeps both secrets in
process; an HSM/KMS-backed signer implements the same two coroutines.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._verify import rsa_parameters, rsa_signature

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["LocalSigner", "Signer"]


@runtime_checkable
class Signer(Protocol):
    """Produces the two signatures a merchant sends (docs/protocol.md §8, §9)."""

    async def sign_token(self, string_to_sign: str) -> str:
        """Base64 SHA256withRSA signature for the access-token request."""
        ...

    async def sign_service(self, string_to_sign: str) -> str:
        """Base64 HMAC-SHA512 signature (keyed by the client secret) for a service call."""
        ...


class LocalSigner:
    """Signs in process with a loaded RSA key and the client secret. Never shows either."""

    __slots__ = ("__hmac", "__key")

    def __init__(self, private_key: rsa.RSAPrivateKey, client_secret: str) -> None:
        self.__key = private_key
        # Keying HMAC once and copying per call saves re-hashing the key on the hot path.
        self.__hmac = hmac.new(client_secret.encode("utf-8"), digestmod=hashlib.sha512)
        rsa_parameters()  # load the RSA padding/hash now, not inside the first (timed) call

    def __repr__(self) -> str:
        return f"<LocalSigner rsa-{self.__key.key_size} hmac-sha512>"

    async def sign_token(self, string_to_sign: str) -> str:
        return rsa_signature(self.__key, string_to_sign)

    async def sign_service(self, string_to_sign: str) -> str:
        mac = self.__hmac.copy()
        mac.update(string_to_sign.encode("utf-8"))
        return base64.b64encode(mac.digest()).decode("ascii")

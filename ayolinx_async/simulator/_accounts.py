"""Merchant accounts registered with the simulator (what the Ayolinx back office holds,
docs/protocol.md §3)."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .._config import Credentials
from .._errors import ConfigurationError
from ..signing._keys import PrivateKeySource, PublicKeySource, load_private_key, load_public_key

__all__ = ["MerchantAccount", "generate_rsa_key", "public_pem", "private_pem"]


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key pair (the size the docs' demo key has)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM, the form the portal shows and accepts."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (the docs' demo key format)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _check_url(value: str | None, what: str) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigurationError(f"{what} must be an absolute http(s) URL")


@attrs.frozen(kw_only=True, slots=True, repr=False)
class MerchantAccount:
    """One merchant: client key/secret, its RSA public key and its callback settings.

    ``private_key`` is only known when the simulator generated the key pair (or it was handed
    over); it lets :meth:`credentials` build a ready-to-use ``Credentials``. ``callback_url`` is
    the back-office NOTIFICATION URL used when a request carries none. ``va_snap_base_url``
    switches VA callbacks to the SNAP flow (merchant token endpoint + ``/v1.0/transfer-va/payment``
    under that base); without it VA payments are notified non-SNAP like the other products.
    """

    client_key: str
    client_secret: str = attrs.field(repr=False)
    public_key: rsa.RSAPublicKey = attrs.field(repr=False)
    private_key: rsa.RSAPrivateKey | None = attrs.field(default=None, repr=False)
    callback_url: str | None = None
    va_snap_base_url: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.client_key or any(c in self.client_key for c in "|\r\n"):
            raise ConfigurationError("client_key must be non-empty, without '|' or line breaks")
        if not self.client_secret:
            raise ConfigurationError("client_secret must be non-empty")
        _check_url(self.callback_url, "callback_url")
        _check_url(self.va_snap_base_url, "va_snap_base_url")

    def __repr__(self) -> str:
        return f"MerchantAccount(client_key={self.client_key!r}, client_secret=***)"

    @classmethod
    def generate(
        cls,
        *,
        callback_url: str | None = None,
        va_snap_base_url: str | None = None,
    ) -> MerchantAccount:
        """A new sandbox-looking account with a fresh key pair and random key/secret."""
        key = generate_rsa_key()
        return cls(
            client_key=f"CKSandbox-{uuid.uuid4()}",
            client_secret=f"SKSandbox-{secrets.token_hex(16)}",
            public_key=key.public_key(),
            private_key=key,
            callback_url=callback_url,
            va_snap_base_url=va_snap_base_url,
        )

    @classmethod
    def from_keys(
        cls,
        *,
        client_key: str,
        client_secret: str,
        public_key: PublicKeySource | None = None,
        private_key: PrivateKeySource | None = None,
        private_key_password: str | bytes | None = None,
        callback_url: str | None = None,
        va_snap_base_url: str | None = None,
    ) -> MerchantAccount:
        """Register existing credentials; give the public key, the private key, or both."""
        loaded_private = (
            load_private_key(private_key, private_key_password) if private_key is not None else None
        )
        if public_key is not None:
            loaded_public = load_public_key(public_key, what="merchant public key")
        elif loaded_private is not None:
            loaded_public = loaded_private.public_key()
        else:
            raise ConfigurationError("a merchant account needs its public or private key")
        return cls(
            client_key=client_key,
            client_secret=client_secret,
            public_key=loaded_public,
            private_key=loaded_private,
            callback_url=callback_url,
            va_snap_base_url=va_snap_base_url,
        )

    def credentials(self, ayolinx_public_key: rsa.RSAPublicKey | None = None) -> Credentials:
        """The matching ``Credentials`` (needs the private key)."""
        if self.private_key is None:
            raise ConfigurationError(
                "the simulator does not hold this merchant's private key; build Credentials"
                " yourself"
            )
        return Credentials(
            client_key=self.client_key,
            client_secret=self.client_secret,
            private_key=self.private_key,
            ayolinx_public_key=ayolinx_public_key,
        )

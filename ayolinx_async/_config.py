"""Environments and credentials. Secrets are held but never shown."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from ._errors import ConfigurationError
from .signing._keys import PrivateKeySource, PublicKeySource

__all__ = ["Credentials", "Environment"]


class Environment(enum.Enum):
    """Ayolinx hosts (docs/protocol.md §2). Pass ``base_url=`` to the client for anything else."""

    SANDBOX = "https://sandbox.ayolinx.id"
    PRODUCTION = "https://openapi.ayolinx.id"

    @property
    def base_url(self) -> str:
        return self.value

    @classmethod
    def from_name(cls, name: str) -> Environment:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ConfigurationError(
                f"environment must be 'sandbox' or 'production', got {name!r}"
            ) from None


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 8 else "…"


@attrs.frozen(kw_only=True, slots=True, repr=False)
class Credentials:
    """What Ayolinx's back office gives a merchant, plus the merchant's own RSA key
    (docs/protocol.md §3).

    ``client_key`` is sent as X-CLIENT-KEY / X-PARTNER-ID. ``client_secret`` keys the HMAC.
    ``private_key`` is PEM text/bytes, a path or a loaded key (omit it with a custom signer).
    ``ayolinx_public_key`` (optional) verifies callbacks.
    Only the client key's first characters ever appear in ``repr``.
    """

    client_key: str
    client_secret: str
    private_key: PrivateKeySource | None = None
    private_key_password: str | bytes | None = None
    ayolinx_public_key: PublicKeySource | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("client_key", "client_secret"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"{name} must be a non-empty string")
        if any(c in self.client_key for c in "\r\n|"):
            raise ConfigurationError("client_key must not contain '|' or line breaks")

    def __repr__(self) -> str:
        masked = _mask(self.client_key)
        return f"Credentials(client_key={masked!r}, client_secret=***, private_key=***)"

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read ``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PRIVATE_KEY`` (PEM
        text) or ``AYOLINX_PRIVATE_KEY_FILE``, ``AYOLINX_PRIVATE_KEY_PASSWORD`` and
        ``AYOLINX_PUBLIC_KEY`` / ``AYOLINX_PUBLIC_KEY_FILE``."""
        env = os.environ if environ is None else environ
        key_text, key_file = require_credentials_env(
            env, "AYOLINX_PRIVATE_KEY", "AYOLINX_PRIVATE_KEY_FILE"
        )
        private_key: PrivateKeySource = key_text if key_text else Path(str(key_file))
        pub_text, pub_file = env.get("AYOLINX_PUBLIC_KEY"), env.get("AYOLINX_PUBLIC_KEY_FILE")
        public_key: PublicKeySource | None = (
            pub_text if pub_text else (Path(pub_file) if pub_file else None)
        )
        return cls(
            client_key=env["AYOLINX_CLIENT_KEY"],
            client_secret=env["AYOLINX_CLIENT_SECRET"],
            private_key=private_key,
            private_key_password=env.get("AYOLINX_PRIVATE_KEY_PASSWORD") or None,
            ayolinx_public_key=public_key,
        )


def require_credentials_env(
    env: Mapping[str, str], text_name: str, file_name: str
) -> tuple[str | None, str | None]:
    """The values of ``text_name`` (PEM text) and ``file_name`` (a path to it), after checking
    that the client key, the secret and one of the two are set (one error names all missing)."""
    missing = [n for n in ("AYOLINX_CLIENT_KEY", "AYOLINX_CLIENT_SECRET") if not env.get(n)]
    text, file = env.get(text_name), env.get(file_name)
    if not text and not file:
        missing.append(f"{text_name} or {file_name}")
    if missing:
        raise ConfigurationError("missing environment variables: " + ", ".join(missing))
    return text, file


def environment_from_env(
    environ: Mapping[str, str] | None = None,
) -> tuple[Environment, str | None]:
    """``AYOLINX_ENVIRONMENT`` (default sandbox) and ``AYOLINX_BASE_URL`` (optional override)."""
    env = os.environ if environ is None else environ
    name = env.get("AYOLINX_ENVIRONMENT") or "sandbox"
    return Environment.from_name(name), env.get("AYOLINX_BASE_URL") or None

"""What :meth:`CallbackHandler.from_env <ayolinx_async.callbacks.CallbackHandler.from_env>`
reads: the merchant's client key and secret, Ayolinx's public key(s) and the notify path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from .._config import require_credentials_env
from .._errors import ConfigurationError
from ..signing import PublicKeySource

__all__ = ["CallbackEnvironment", "read_environment"]


@attrs.frozen(kw_only=True, slots=True)
class CallbackEnvironment:
    """The callback settings found in the environment."""

    client_key: str
    client_secret: str = attrs.field(repr=False)
    public_keys: PublicKeySource = attrs.field(repr=False)
    notify_path: str | None = attrs.field(repr=False)


def read_environment(env: Mapping[str, str]) -> CallbackEnvironment:
    """``AYOLINX_CLIENT_KEY``, ``AYOLINX_CLIENT_SECRET``, ``AYOLINX_PUBLIC_KEY`` (PEM, may hold
    several keys) or ``AYOLINX_PUBLIC_KEY_FILE`` (read now), optional ``AYOLINX_CALLBACK_PATH``."""
    pub_text, pub_file = require_credentials_env(
        env, "AYOLINX_PUBLIC_KEY", "AYOLINX_PUBLIC_KEY_FILE"
    )
    if pub_text:
        keys: PublicKeySource = pub_text
    else:
        try:
            keys = Path(str(pub_file)).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"AYOLINX_PUBLIC_KEY_FILE: cannot read {pub_file!r} ({exc.strerror})"
            ) from None
    return CallbackEnvironment(
        client_key=env["AYOLINX_CLIENT_KEY"],
        client_secret=env["AYOLINX_CLIENT_SECRET"],
        public_keys=keys,
        notify_path=env.get("AYOLINX_CALLBACK_PATH") or None,
    )

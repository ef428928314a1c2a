"""What :meth:`CallbackHandler.from_env <ayolinx_async.callbacks.CallbackHandler.from_env>`
reads: the merchant's client key and secret, Ayolinx's public key(s) and the notify path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

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
    missing = [n for n in ("AYOLINX_CLIENT_KEY", "AYOLINX_CLIENT_SECRET") if not env.get(n)]
    pub_text, pub_file = env.get("AYOLINX_PUBLIC_KEY"), env.get("AYOLINX_PUBLIC_KEY_FILE")
    if not pub_text and not pub_file:
        missing.append("AYOLINX_PUBLIC_KEY or AYOLINX_PUBLIC_KEY_FILE")
    if missing:
        raise ConfigurationError("missing environment variables: " + ", ".join(missing))
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

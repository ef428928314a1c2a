"""Loading RSA keys from the forms merchants actually have (docs/protocol.md §3).

Private keys: PEM PKCS#1 (``BEGIN RSA PRIVATE KEY``), PEM PKCS#8, encrypted PKCS#8, DER; from
``str`` (PEM text or a path), ``bytes``, ``os.PathLike`` or a loaded key object. Public keys: SPKI
PEM/DER and PKCS#1 public PEM. Errors never echo key material.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from .._errors import ConfigurationError
from .._secret import SecretBytes, hide

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "PrivateKeySource",
    "PublicKeySource",
    "load_private_key",
    "load_public_key",
]

# Strings, so cryptography is imported when a key is loaded, not with the package (issue 15).
PrivateKeySource: TypeAlias = "str | bytes | os.PathLike[str] | rsa.RSAPrivateKey"
PublicKeySource: TypeAlias = "str | bytes | os.PathLike[str] | rsa.RSAPublicKey"

_PEM_MARK = b"-----BEGIN"
_BASE64_BLOB = re.compile(r"[A-Za-z0-9+/=]{64,}")
#: A run no file name has but key text does (base64 between its slashes).
_KEY_RUN = re.compile(r"[A-Za-z0-9+=]{40,}")


def _read_source(source: str | bytes | os.PathLike[str], what: str) -> bytes:
    """Return key bytes from PEM text, raw bytes or a file path."""
    source = hide(source)  # key text: redacted in crash reports' frame locals
    if isinstance(source, bytes | bytearray):
        return SecretBytes(source)
    if isinstance(source, str):
        if "-----BEGIN" in source:
            # .env files and Kubernetes secrets often hold the PEM on one line with literal
            # "\n" sequences: turn them back into line breaks.
            text = hide(source.replace("\\r\\n", "\n").replace("\\n", "\n"))
            return SecretBytes(text.strip().encode("ascii", errors="replace") + b"\n")
        # A short single-line string is a path. Anything else — including unarmoured base64
        # DER, a common way to paste a key — is key text and must never be echoed.
        keyish = len(source) > 255 or _BASE64_BLOB.fullmatch(source) is not None
        if "\n" in source or len(source) > 4096 or (keyish and not names_file(source)):
            raise ConfigurationError(f"{what}: text is neither a PEM block nor a file path")
        path = Path(source)
    elif isinstance(source, os.PathLike):
        path = Path(source)
    else:
        raise ConfigurationError(f"{what}: unsupported type {type(source).__name__}")
    try:
        return SecretBytes(path.expanduser().read_bytes())
    except OSError as exc:
        raise ConfigurationError(
            f"{what}: is neither a PEM block nor a readable key file {shown_path(str(path))}"
            f" ({exc.strerror})"
        ) from None


def names_file(text: str) -> bool:
    """Whether ``text`` (``~`` expanded) names an existing file. Never raises: ``Path.exists``
    lets "file name too long" through as an ``OSError`` whose message is the text itself, which
    here may be a pasted key (a base64 run of over 255 characters between slashes)."""
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):  # RuntimeError: "~" with no home directory
        return False


def shown_path(text: str) -> str:
    """``text`` as a message may show it: quoted when it reads as a path someone meant, else
    only its length. A key pasted where a path belongs (``AYOLINX_PRIVATE_KEY_FILE``) has
    slashes too, so long or base64-like text is never echoed."""
    if _looks_like_path(text) and len(text) <= 255 and _KEY_RUN.search(text) is None:
        return repr(text)
    return f"({len(text)} characters)"


def _looks_like_path(text: str) -> bool:
    """A path someone meant (has a directory part or a key-file suffix), not a pasted value."""
    return "/" in text or "\\" in text or text.lower().endswith((".pem", ".key", ".der", ".p8"))


def read_key_bytes(source: str | bytes | os.PathLike[str], what: str) -> bytes:
    """The raw bytes behind a key source (PEM text, bytes or a path) — e.g. to split a file
    holding several PEM blocks."""
    return _read_source(source, what)


def load_private_key(
    source: PrivateKeySource,
    password: str | bytes | None = None,
    *,
    min_key_size: int = 0,
) -> rsa.RSAPrivateKey:
    """Load the merchant's RSA private key; ``min_key_size`` (bits) is enforced if set."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    what = "private_key"
    # Key text and password are rebound as redacted values: crash reporters print locals. A
    # path too: ``AYOLINX_PRIVATE_KEY_FILE`` may hold the key itself (read as a path below).
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    source, password = hide(source), hide(password)
    if isinstance(source, rsa.RSAPrivateKey):
        key: object = source
    else:
        data = _read_source(source, what)
        pw = hide(password.encode("utf-8")) if isinstance(password, str) else password
        try:
            if data.lstrip().startswith(_PEM_MARK):
                key = serialization.load_pem_private_key(data, password=pw)
            else:
                key = serialization.load_der_private_key(data, password=pw)
        except TypeError:
            # cryptography: password given for an unencrypted key, or missing for an encrypted one.
            if pw is None:
                raise ConfigurationError(
                    f"{what}: key is encrypted; a password is required"
                ) from None
            raise ConfigurationError(
                f"{what}: key is not encrypted; do not pass a password"
            ) from None
        except ValueError:
            raise ConfigurationError(
                f"{what}: could not load the key"
                " (wrong password, corrupt data, or not a private key)"
            ) from None
        except Exception:  # cryptography raises UnsupportedAlgorithm and others
            raise ConfigurationError(f"{what}: unsupported or corrupt key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"{what}: expected an RSA key, got {type(key).__name__}")
    if key.key_size < min_key_size:
        raise ConfigurationError(
            f"{what}: RSA key is {key.key_size} bits; at least {min_key_size} required"
        )
    return key


def load_public_key(source: PublicKeySource, *, what: str = "public_key") -> rsa.RSAPublicKey:
    """Load an RSA public key (SPKI PEM/DER, PKCS#1 ``BEGIN RSA PUBLIC KEY``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(source, rsa.RSAPublicKey):
        return source
    data = _read_source(source, what)
    try:
        if data.lstrip().startswith(_PEM_MARK):
            key: object = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_der_public_key(data)
    except Exception:
        raise ConfigurationError(
            f"{what}: could not load the public key (corrupt or unsupported)"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError(f"{what}: expected an RSA key, got {type(key).__name__}")
    return key

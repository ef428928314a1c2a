"""``ayolinx keygen``: a new merchant RSA key pair for the Ayolinx back office.

Writes the private key as PKCS#8 PEM (mode 0600, optionally encrypted with a password read from
a file, stdin or a prompt) and the public key as SubjectPublicKeyInfo PEM
(``-----BEGIN PUBLIC KEY-----``), the form the back office's "Integration Material" page takes.
Existing files are never overwritten.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from pathlib import Path
from typing import Any

import attrs

from . import Command
from ._output import (
    ExitCode,
    UsageError,
    emit_json,
    fingerprint,
    read_secret_file,
    wants_json,
)

__all__ = ["COMMAND", "KeyPairFiles", "write_key_pair"]

_KEY_SIZES = (2048, 3072, 4096)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="directory for the key files (created)"
    )
    parser.add_argument(
        "--name",
        default="merchant",
        help="file name prefix: NAME_private.pem, NAME_public.pem (default: merchant)",
    )
    parser.add_argument(
        "--bits", type=int, choices=_KEY_SIZES, default=2048, help="RSA key size (default 2048)"
    )
    password = parser.add_mutually_exclusive_group()
    password.add_argument(
        "--password-file",
        metavar="FILE",
        help="encrypt the private key with the password in FILE ('-' = stdin)",
    )
    password.add_argument(
        "--prompt-password",
        action="store_true",
        help="encrypt the private key with a password typed at a prompt (asked twice)",
    )


@attrs.frozen(kw_only=True, slots=True)
class KeyPairFiles:
    """Where :func:`write_key_pair` put the two keys."""

    private_path: Path
    public_path: Path


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (failing if it exists) with ``mode`` and write ``data``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        # The umask may have removed bits; set the exact mode (no-op on Windows).
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
    finally:
        os.close(fd)


def write_key_pair(
    directory: Path,
    *,
    name: str = "merchant",
    bits: int = 2048,
    password: bytes | None = None,
) -> tuple[KeyPairFiles, bytes]:
    """Generate an RSA key pair and write it to ``directory``; return the files and public PEM.

    Refuses (``UsageError``) if either file exists; a half-written pair is removed.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise UsageError(f"--name {name!r} must be a plain file name prefix")
    private_path = directory / f"{name}_private.pem"
    public_path = directory / f"{name}_public.pem"
    existing = [str(p) for p in (private_path, public_path) if p.exists()]
    if existing:
        raise UsageError(
            f"refusing to overwrite {', '.join(existing)}; choose another --out or --name"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"--out: cannot create {str(directory)!r} ({exc.strerror})") from None
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _write_new(private_path, private_pem, 0o600)
    except FileExistsError:
        raise UsageError(f"refusing to overwrite {str(private_path)!r}") from None
    except OSError as exc:
        raise UsageError(f"--out: cannot write {str(private_path)!r} ({exc.strerror})") from None
    try:
        _write_new(public_path, public_pem, 0o644)
    except OSError as exc:
        with contextlib.suppress(OSError):
            private_path.unlink()
        if isinstance(exc, FileExistsError):
            raise UsageError(f"refusing to overwrite {str(public_path)!r}") from None
        raise UsageError(f"--out: cannot write {str(public_path)!r} ({exc.strerror})") from None
    return KeyPairFiles(private_path=private_path, public_path=public_path), public_pem


def _password(args: argparse.Namespace) -> bytes | None:
    if args.password_file is not None:
        return read_secret_file(args.password_file, "--password-file").encode("utf-8")
    if not args.prompt_password:
        return None
    if not sys.stdin.isatty():
        raise UsageError("--prompt-password needs a terminal; use --password-file instead")
    first = getpass.getpass("Password for the private key: ")
    if not first:
        raise UsageError("the password must not be empty")
    if getpass.getpass("Repeat the password: ") != first:
        raise UsageError("the two passwords differ")
    return first.encode("utf-8")


def _run(args: argparse.Namespace) -> int:
    from ..signing import load_private_key

    password = _password(args)
    files, public_pem = write_key_pair(
        Path(args.out).expanduser().absolute(), name=args.name, bits=args.bits, password=password
    )
    # Prove the file loads the way the client will load it.
    key = load_private_key(files.private_path, password)
    info: dict[str, Any] = {
        "private_key_file": str(files.private_path),
        "public_key_file": str(files.public_path),
        "bits": key.key_size,
        "encrypted": password is not None,
        "fingerprint": fingerprint(key.public_key()),
        "public_key_pem": public_pem.decode("ascii"),
    }
    if wants_json(args):
        emit_json(info)
        return ExitCode.OK
    state = "encrypted with your password" if password else "not encrypted"
    lines = [
        f"New RSA-{key.key_size} merchant key pair:",
        f"  private key  {files.private_path}  (PKCS#8 PEM, mode 0600, {state})",
        f"  public key   {files.public_path}  (SPKI PEM)",
        f"  fingerprint  {info['fingerprint']}",
        "",
        "Paste this public key into the Ayolinx back office (Integration Material):",
        "",
        public_pem.decode("ascii").rstrip(),
        "",
        "Point the SDK at the private key (keep it secret; Ayolinx never needs it):",
        f"  export AYOLINX_PRIVATE_KEY_FILE={files.private_path}",
    ]
    if password:
        lines.append("  export AYOLINX_PRIVATE_KEY_PASSWORD=...   # the password you chose")
    sys.stdout.write("\n".join(lines) + "\n")
    return ExitCode.OK


COMMAND = Command(
    name="keygen",
    help="create a merchant RSA key pair (private PKCS#8 0600, public PEM for the back office)",
    description=__doc__,
    configure=_configure,
    run=_run,
    json_output=True,
)

"""The offline checks of ``ayolinx doctor``: the AYOLINX_* variables, the private key and the
proxy; plus :class:`Check` (one result line) and :class:`Findings` (what later checks need)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from ..signing._keys import names_file, shown_path
from ._output import ExitCode, fingerprint

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "Check",
    "Findings",
    "Status",
    "check_private_key",
    "check_proxy",
    "check_variables",
    "failed",
    "mask",
    "passed",
    "proxy_for",
    "skipped",
]

#: The smallest RSA key Ayolinx accepts (SNAP asks for RSA-2048 or more).
MIN_KEY_BITS = 2048


class Status(enum.StrEnum):
    """How one check ended; ``skip`` never fails the run."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@attrs.frozen(kw_only=True, slots=True)
class Check:
    """One line of the doctor's report; ``exit_code`` is the run's status when this failed."""

    name: str
    status: Status
    detail: str
    hint: str | None = None
    exit_code: ExitCode = ExitCode.OK

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAIL

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "status": self.status.value,
            "detail": self.detail,
            "hint": self.hint,
        }


def passed(name: str, detail: str) -> Check:
    return Check(name=name, status=Status.PASS, detail=detail)


def skipped(name: str, detail: str) -> Check:
    return Check(name=name, status=Status.SKIP, detail=detail)


def failed(name: str, detail: str, hint: str | None, exit_code: ExitCode) -> Check:
    return Check(name=name, status=Status.FAIL, detail=detail, hint=hint, exit_code=exit_code)


@attrs.define(kw_only=True)
class Findings:
    """What the checks learnt so far; later checks read it to decide whether they can run."""

    environ: Mapping[str, str]
    base_url: str | None = None
    credentials_ok: bool = False
    key: rsa.RSAPrivateKey | None = None
    proxy: tuple[str, str] | None = None
    addresses: tuple[str, ...] = ()
    reachable: bool = False
    skew: float | None = None
    token_ok: bool = False

    @property
    def clock_is_off(self) -> bool:
        return self.skew is not None and abs(self.skew) > 60


def mask(value: str) -> str:
    """The first 4 characters and the length: enough to recognise a value, not to use it."""
    shown = value[:4] if len(value) >= 8 else ""
    return f"{shown}… ({len(value)} chars)"


def _shape_problems(name: str, value: str, *, forbidden: str = "") -> list[tuple[str, str]]:
    """The usual ways a pasted value goes wrong (spaces, quotes, line breaks)."""
    problems: list[tuple[str, str]] = []
    if value != value.strip():
        problems.append((f"{name} has spaces or a line break around it", f"strip them from {name}"))
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        problems.append(
            (f"{name} is wrapped in quotes", f"the quotes became part of {name}: remove them")
        )
    bad = sorted({c for c in value.strip() if c in forbidden or c in "\r\n"})
    if bad:
        problems.append((f"{name} contains {', '.join(map(repr, bad))}", f"{name} is one token"))
    return problems


def _base_url_problems(value: str) -> list[tuple[str, str]]:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            (
                f"AYOLINX_BASE_URL {value!r} is not an http(s) URL",
                "use https://sandbox.ayolinx.id, https://openapi.ayolinx.id, or http://HOST:PORT"
                " for a local `ayolinx simulator`",
            )
        ]
    problems: list[tuple[str, str]] = []
    if parts.path.rstrip("/"):
        problems.append(
            (
                f"AYOLINX_BASE_URL ends in a path ({parts.path.rstrip('/')!r})",
                "give only the scheme and host, e.g. https://sandbox.ayolinx.id; the SDK adds"
                " /v1.0/… itself",
            )
        )
    if parts.query or parts.fragment:
        problems.append(("AYOLINX_BASE_URL has a query or fragment", "remove it"))
    return problems


def _key_variables(env: Mapping[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    """How the private key is given (shown without its text) and what is wrong with it."""
    text, path = env.get("AYOLINX_PRIVATE_KEY", ""), env.get("AYOLINX_PRIVATE_KEY_FILE", "")
    if text:
        note = " (wins over AYOLINX_PRIVATE_KEY_FILE)" if path else ""
        return [f"AYOLINX_PRIVATE_KEY=<{len(text)} chars>{note}"], []
    if not path:
        return [], [
            (
                "AYOLINX_PRIVATE_KEY or AYOLINX_PRIVATE_KEY_FILE is missing",
                "set AYOLINX_PRIVATE_KEY_FILE to your merchant private key (PEM);"
                " `ayolinx keygen --out keys` makes a pair",
            )
        ]
    if not names_file(path):
        shown = shown_path(path)
        if shown != repr(path):
            # Key text where the path belongs: described, never echoed.
            return [f"AYOLINX_PRIVATE_KEY_FILE=<{len(path)} chars>"], [
                (
                    "AYOLINX_PRIVATE_KEY_FILE does not name a file (key text?)",
                    "put the key's PEM text in AYOLINX_PRIVATE_KEY, or its file's path here",
                )
            ]
        return [f"AYOLINX_PRIVATE_KEY_FILE={path}"], [
            (f"AYOLINX_PRIVATE_KEY_FILE: no file at {shown}", "fix the path")
        ]
    return [f"AYOLINX_PRIVATE_KEY_FILE={path}"], []


def _public_key_variables(env: Mapping[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The optional Ayolinx public key (verifies callbacks): it must load if it is set."""
    from .._errors import ConfigurationError
    from ..signing import load_public_key

    text, path = env.get("AYOLINX_PUBLIC_KEY", ""), env.get("AYOLINX_PUBLIC_KEY_FILE", "")
    if not text and not path:
        return [], []
    name, source = ("AYOLINX_PUBLIC_KEY", text) if text else ("AYOLINX_PUBLIC_KEY_FILE", path)
    shown = f"{name}=<{len(text)} chars>" if text else f"{name}={path}"
    try:
        key = load_public_key(source if text else Path(path), what=name)
    except ConfigurationError as exc:
        hint = "it is Ayolinx's public key (BEGIN PUBLIC KEY), from the back office"
        return [shown], [(str(exc), hint)]
    return [f"{shown} (RSA-{key.key_size})"], []


def check_variables(found: Findings) -> Check:
    """The AYOLINX_* variables: present, well-formed; secrets shown masked only."""
    from .._config import Environment
    from .._errors import ConfigurationError

    env = found.environ
    shown: list[str] = []
    problems: list[tuple[str, str]] = []
    required = {"AYOLINX_CLIENT_KEY": "|", "AYOLINX_CLIENT_SECRET": ""}
    for name, forbidden in required.items():
        value = env.get(name, "")
        if not value:
            problems.append((f"{name} is missing", f"set {name} (from the Ayolinx back office)"))
            continue
        shown.append(f"{name}={mask(value)}")
        problems += _shape_problems(name, value, forbidden=forbidden)
    key_shown, key_problems = _key_variables(env)
    shown += key_shown
    problems += key_problems
    found.credentials_ok = not problems
    if env.get("AYOLINX_PRIVATE_KEY_PASSWORD"):
        shown.append("AYOLINX_PRIVATE_KEY_PASSWORD=<set>")
    try:
        environment = Environment.from_name(env.get("AYOLINX_ENVIRONMENT") or "sandbox")
    except ConfigurationError as exc:
        problems.append((f"AYOLINX_ENVIRONMENT: {exc}", "use sandbox or production"))
        environment = None
    base = env.get("AYOLINX_BASE_URL", "")
    if base:
        shown.append(f"AYOLINX_BASE_URL={base}")
        url_problems = _base_url_problems(base)
        problems += url_problems
        if not url_problems or url_problems[0][0].startswith("AYOLINX_BASE_URL ends"):
            parts = urlsplit(base.strip())
            found.base_url = f"{parts.scheme}://{parts.netloc}"
    elif environment is not None:
        shown.append(f"AYOLINX_ENVIRONMENT={environment.name.lower()} ({environment.base_url})")
        found.base_url = environment.base_url
    public_shown, public_problems = _public_key_variables(env)
    shown += public_shown
    problems += public_problems
    if problems:
        detail = "; ".join(what for what, _ in problems)
        hint = "; ".join(dict.fromkeys(how for _, how in problems))
        return failed("variables", detail, hint, ExitCode.CONFIGURATION)
    return passed("variables", ", ".join(shown))


def check_private_key(found: Findings) -> Check:
    """The merchant key loads (with its password), is RSA and at least 2048 bits."""
    from .._errors import ConfigurationError
    from ..signing import load_private_key

    env = found.environ
    text, path = env.get("AYOLINX_PRIVATE_KEY", ""), env.get("AYOLINX_PRIVATE_KEY_FILE", "")
    if not text and not (path and names_file(path)):
        return skipped("private key", "not checked: no readable key is configured")
    try:
        key = load_private_key(
            text if text else Path(path), env.get("AYOLINX_PRIVATE_KEY_PASSWORD") or None
        )
    except ConfigurationError as exc:
        hint = (
            "give the whole PEM block (BEGIN to END); an encrypted key needs"
            " AYOLINX_PRIVATE_KEY_PASSWORD; `openssl pkey -in FILE -noout` tests a file"
        )
        return failed("private key", str(exc), hint, ExitCode.CONFIGURATION)
    if key.key_size < MIN_KEY_BITS:
        return failed(
            "private key",
            f"RSA-{key.key_size} is too small: Ayolinx requires at least {MIN_KEY_BITS} bits",
            "make a new pair with `ayolinx keygen --out keys` and register"
            " keys/merchant_public.pem in the back office",
            ExitCode.CONFIGURATION,
        )
    found.key = key
    return passed(
        "private key",
        f"RSA-{key.key_size} {fingerprint(key.public_key())}; its public half is printed below",
    )


def _bypassed(host: str, no_proxy: str) -> bool:
    """``host`` is covered by a ``no_proxy`` list: ``*``, the host, or a parent domain."""
    for entry in no_proxy.split(","):
        name = entry.strip().lower().split(":", 1)[0].lstrip(".")
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False


def proxy_for(url: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The proxy a request to ``url`` goes through and the variable naming it, or ``None``.

    The same rules as httpx and urllib: ``<scheme>_proxy`` then ``all_proxy`` (either case),
    unless ``no_proxy`` covers the host.
    """
    parts = urlsplit(url)
    if _bypassed(parts.hostname or "", environ.get("no_proxy") or environ.get("NO_PROXY") or ""):
        return None
    for name in (f"{parts.scheme}_proxy", "all_proxy"):
        for variable in (name, name.upper()):
            value = environ.get(variable, "").strip()
            if value:
                return value, variable
    return None


def _without_password(proxy: str) -> str:
    parts = urlsplit(proxy)
    if "@" not in parts.netloc:
        return proxy
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def check_proxy(found: Findings) -> Check:
    """Which proxy variable applies to the base URL (shown, password hidden)."""
    if found.base_url is None:
        return skipped("proxy", "not checked: no usable base URL")
    proxy = proxy_for(found.base_url, found.environ)
    if proxy is None:
        return passed("proxy", "none: connecting directly")
    value, variable = proxy
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
        return failed(
            "proxy",
            f"{variable}={_without_password(value)} is not a proxy URL",
            f"write it as http://HOST:PORT, or unset {variable}",
            ExitCode.CONFIGURATION,
        )
    found.proxy = (value, variable)
    return passed("proxy", f"{_without_password(value)} (from {variable})")

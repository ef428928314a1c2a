"""``ayolinx doctor``: check an integration end to end, one line per check with what to do.

Reads the same AYOLINX_* variables as ``AyolinxClient.from_env()``: checks they are present and
well-formed (secrets shown as their first 4 characters and length), that the private key loads
and is RSA-2048 or more (its public half is printed, to compare with the back office), the
proxy that applies, DNS, TCP and TLS to the host, this machine's clock against the server's
Date header, and a real token request. ``--call-read-only`` adds one signed status query of a
reference that does not exist: "not found" proves that signing and routing work.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import Command
from ._doctor_checks import (
    Check,
    Findings,
    Status,
    check_private_key,
    check_proxy,
    check_variables,
)
from ._output import ExitCode, emit_json, wants_json

__all__ = ["COMMAND", "Report", "diagnose"]

_EPILOG = """\
exit status: 0 every check passed (skipped ones do not count); 1 Ayolinx refused the token or
the call, or the clock is off; 3 configuration (variables, private key, proxy variable);
4 network (DNS, TCP, TLS, no usable answer). The first failing check decides.
"""

_NAME_WIDTH = 11


@attrs.frozen(kw_only=True, slots=True)
class Report:
    """Every check in order, the base URL they ran against and the merchant public key."""

    checks: tuple[Check, ...]
    base_url: str | None
    public_key_pem: str | None

    @property
    def exit_code(self) -> ExitCode:
        return next((c.exit_code for c in self.checks if not c.ok), ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code is ExitCode.OK,
            "exit_code": int(self.exit_code),
            "base_url": self.base_url,
            "checks": [c.to_json() for c in self.checks],
            "public_key_pem": self.public_key_pem,
        }


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument(
        "--call-read-only",
        action="store_true",
        help="also send one signed read-only call (a status query of an unknown reference)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per network check (default 10)",
    )


def _public_pem(found: Findings) -> str | None:
    from cryptography.hazmat.primitives import serialization

    if found.key is None:
        return None
    return (
        found.key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


async def diagnose(
    environ: Mapping[str, str],
    *,
    timeout: float = 10.0,
    read_only: bool = False,
    on_check: Callable[[Check], None] | None = None,
) -> Report:
    """Run every check in order (a check whose prerequisite failed is skipped, not failed).

    Network checks and the token request read proxy settings from the process environment,
    as the SDK does; ``environ`` is what the variable checks read.
    """
    from ._doctor_net import check_api, check_dns, check_http, check_tcp

    found = Findings(environ=environ)
    checks: list[Check] = []

    def add(*new: Check) -> None:
        for check in new:
            checks.append(check)
            if on_check is not None:
                on_check(check)

    add(check_variables(found), check_private_key(found), check_proxy(found))
    add(await check_dns(found, timeout))
    add(await check_tcp(found, timeout))
    add(*await check_http(found, timeout))
    add(*await check_api(found, timeout, read_only=read_only))
    return Report(checks=tuple(checks), base_url=found.base_url, public_key_pem=_public_pem(found))


def _marks(stream: Any) -> dict[Status, str]:
    """✔/✘ when the terminal can show them, else plain ASCII; ``-`` marks a skipped check."""
    try:
        "✔✘".encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return {Status.PASS: "OK", Status.FAIL: "FAIL", Status.SKIP: "--"}
    return {Status.PASS: "✔", Status.FAIL: "✘", Status.SKIP: "-"}


def render_check(check: Check, marks: Mapping[Status, str]) -> str:
    """The check's line (``✔ name  detail``) and, when it failed with a hint, a hint line."""
    line = f"{marks[check.status]} {check.name.ljust(_NAME_WIDTH)}  {check.detail}"
    if check.hint and check.status is Status.FAIL:
        line += f"\n  {'hint:'.ljust(_NAME_WIDTH)}  {check.hint}"
    return line + "\n"


def _summary(report: Report) -> str:
    lines: list[str] = []
    if report.public_key_pem is not None:
        lines += [
            "",
            "Merchant public key (the Ayolinx back office must hold exactly this one):",
            report.public_key_pem.rstrip(),
        ]
    bad = [c.name for c in report.checks if not c.ok]
    lines.append("")
    if bad:
        lines.append(
            f"{len(bad)} check(s) failed ({', '.join(bad)}): exit status {int(report.exit_code)}"
        )
    else:
        lines.append("All checks passed.")
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace) -> int:
    import anyio

    if not args.timeout > 0:
        from ._output import UsageError

        raise UsageError("--timeout must be a positive number of seconds")
    as_json = wants_json(args)
    marks = _marks(sys.stdout)

    def show(check: Check) -> None:
        sys.stdout.write(render_check(check, marks))
        sys.stdout.flush()

    environ = dict(os.environ)
    if not as_json:
        print("ayolinx doctor: checking the AYOLINX_* configuration", flush=True)
    report = anyio.run(
        lambda: diagnose(
            environ,
            timeout=args.timeout,
            read_only=args.call_read_only,
            on_check=None if as_json else show,
        )
    )
    if as_json:
        emit_json(report.to_json())
    else:
        sys.stdout.write(_summary(report))
    return int(report.exit_code)


COMMAND = Command(
    name="doctor",
    help="check the AYOLINX_* configuration end to end (keys, network, clock, token)",
    description=__doc__,
    configure=_configure,
    run=_run,
    json_output=True,
)

"""``ayolinx simulator``: serve the embedded Ayolinx on a real port (uvicorn, ``[server]`` extra).

Prints the merchant credentials and keys it generated (or was given), as ``AYOLINX_*``
environment lines that ``AyolinxClient.from_env()`` reads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import Command

if TYPE_CHECKING:
    from ..simulator import Simulator

__all__ = ["COMMAND", "build_simulator", "describe", "make_server"]

_EXTRA_HINT = "the simulator server needs uvicorn: pip install 'ayolinx-async[server]'"


def _configure(parser: argparse.ArgumentParser) -> None:
    net = parser.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    net.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    creds = parser.add_argument_group("credentials (generated when omitted)")
    creds.add_argument("--client-key", help="merchant client key (X-CLIENT-KEY / X-PARTNER-ID)")
    creds.add_argument(
        "--client-secret-file",
        dest="client_secret",
        type=_secret_from_file,
        metavar="FILE",
        help="file holding the merchant client secret (HMAC key); '-' reads stdin."
        " Secrets never go on the command line.",
    )
    creds.add_argument("--merchant-public-key", metavar="PEM", help="merchant RSA public key")
    creds.add_argument("--merchant-private-key", metavar="PEM", help="merchant RSA private key")
    creds.add_argument(
        "--ayolinx-private-key", metavar="PEM", help="the simulator's callback-signing key"
    )
    creds.add_argument(
        "--keys-dir", metavar="DIR", help="write key files here (default: a new temp dir)"
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--callback-url", help="default NOTIFICATION URL for callbacks")
    behaviour.add_argument(
        "--va-snap-base-url", help="merchant base URL for the SNAP VA callback flow"
    )
    behaviour.add_argument("--token-lifetime", type=int, default=900, help="seconds (900)")
    behaviour.add_argument(
        "--timestamp-tolerance", type=float, default=300.0, help="X-TIMESTAMP window, seconds"
    )
    behaviour.add_argument(
        "--time-scale", type=float, default=1.0, help="multiply callback retry waits (1.0)"
    )
    behaviour.add_argument(
        "--auto-pay", type=float, metavar="SECONDS", help="pay new transactions after SECONDS"
    )
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency", type=float, default=0.0, help="added seconds per answer")
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of 5xx answers")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="share of dropped answers")
    faults.add_argument("--seed", type=int, help="seed for references and faults")
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )


def _secret_from_file(value: str) -> str:
    from ._output import UsageError, read_secret_file

    try:
        return read_secret_file(value, "--client-secret-file")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_simulator(args: argparse.Namespace) -> Simulator:
    """A simulator from the command-line options (raises ``ConfigurationError`` on bad input)."""
    from .._errors import ConfigurationError
    from ..simulator import Faults, MerchantAccount, Simulator

    given = [args.client_key, args.client_secret]
    if any(given) and not all(given):
        raise ConfigurationError("give both --client-key and --client-secret-file, or neither")
    if args.client_key:
        if not (args.merchant_public_key or args.merchant_private_key):
            raise ConfigurationError(
                "--client-key needs --merchant-public-key or --merchant-private-key"
            )
        account = MerchantAccount.from_keys(
            client_key=args.client_key,
            client_secret=args.client_secret,
            public_key=Path(args.merchant_public_key) if args.merchant_public_key else None,
            private_key=Path(args.merchant_private_key) if args.merchant_private_key else None,
            callback_url=args.callback_url,
            va_snap_base_url=args.va_snap_base_url,
        )
    else:
        account = MerchantAccount.generate(
            callback_url=args.callback_url, va_snap_base_url=args.va_snap_base_url
        )
    try:
        faults = Faults(latency=args.latency, error_rate=args.error_rate, drop_rate=args.drop_rate)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    return Simulator(
        account,
        ayolinx_key=Path(args.ayolinx_private_key) if args.ayolinx_private_key else None,
        token_lifetime=args.token_lifetime,
        timestamp_tolerance=args.timestamp_tolerance,
        time_scale=args.time_scale,
        auto_pay_after=args.auto_pay,
        faults=faults,
        seed=args.seed,
        base_url=f"http://{args.host}:{args.port}",
    )


def describe(sim: Simulator, keys_dir: Path, out: TextIO, *, generated: bool = True) -> None:
    """Write the key files and print how to point a client at the simulator.

    Secrets are printed only when the simulator generated them (``generated``); a secret or key
    the caller supplied is already theirs and is never echoed.
    """
    from ..simulator._accounts import private_pem

    keys_dir.mkdir(parents=True, exist_ok=True)
    account = sim.merchant
    public_path = keys_dir / "ayolinx_public.pem"
    public_path.write_bytes(sim.ayolinx_public_pem)
    lines = [
        f"Ayolinx simulator on {sim.base_url}  (admin: {sim.base_url}/_simulator/)",
        "Merchant credentials (valid for this simulator only):",
        f"  AYOLINX_BASE_URL={sim.base_url}",
        f"  AYOLINX_CLIENT_KEY={account.client_key}",
        f"  AYOLINX_CLIENT_SECRET={account.client_secret}"
        if generated
        else "  AYOLINX_CLIENT_SECRET=<the secret you gave>",
    ]
    private_text = ""
    if account.private_key is not None and generated:
        private_path = keys_dir / "merchant_private.pem"
        private_text = private_pem(account.private_key).decode("ascii")
        private_path.write_text(private_text)
        private_path.chmod(0o600)
        lines.append(f"  AYOLINX_PRIVATE_KEY_FILE={private_path}")
    lines.append(f"  AYOLINX_PUBLIC_KEY_FILE={public_path}")
    if account.callback_url:
        lines.append(f"Callbacks go to {account.callback_url} unless a request names a URL.")
    if account.va_snap_base_url:
        lines.append(f"SNAP VA callbacks go to {account.va_snap_base_url}.")
    if private_text:
        lines += ["", "Merchant private key:", private_text.rstrip()]
    lines += [
        "",
        "Ayolinx public key (verifies callbacks):",
        sim.ayolinx_public_pem.decode().rstrip(),
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def make_server(sim: Simulator, host: str, port: int, *, log_level: str = "warning") -> Any:
    """A ``uvicorn.Server`` running ``sim`` with lifespan on (background work needs it)."""
    try:
        import uvicorn
    except ImportError:
        from .._errors import ConfigurationError

        raise ConfigurationError(_EXTRA_HINT) from None
    config = uvicorn.Config(
        sim, host=host, port=port, lifespan="on", log_level=log_level, access_log=False
    )
    return uvicorn.Server(config)


def _run(args: argparse.Namespace) -> int:
    # A ConfigurationError propagates to main(): one line, exit 3, traceback under --debug.
    sim = build_simulator(args)
    server = make_server(sim, args.host, args.port, log_level=args.log_level)
    keys_dir = Path(args.keys_dir) if args.keys_dir else Path(tempfile.mkdtemp(prefix="ayolinx-"))
    describe(sim, keys_dir, sys.stdout, generated=args.client_key is None)
    server.run()
    return 0 if getattr(server, "started", False) else 1


COMMAND = Command(
    name="simulator",
    help="run the Ayolinx simulator on a real port",
    description=__doc__,
    configure=_configure,
    run=_run,
)

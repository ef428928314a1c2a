"""``ayolinx simulator``: serve the embedded Ayolinx on a real port (uvicorn, ``[server]`` extra).

Prints the merchant credentials and keys it generated (or was given) as ``export AYOLINX_...``
lines that a shell can source and ``AyolinxClient.from_env()`` reads (``--json``: one JSON
document). Ctrl-C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import errno
import shlex
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import Command
from ._output import ExitCode, NetworkError, emit_json, wants_json

if TYPE_CHECKING:
    from ..simulator import Simulator

__all__ = ["COMMAND", "build_simulator", "describe", "listen", "make_server", "settings"]

_EXTRA_HINT = "the simulator server needs uvicorn: pip install 'ayolinx-async[server]'"
_BIND_ADVICE = {
    errno.EADDRINUSE: " (another server uses it: pick another --port)",
    errno.EACCES: " (ports below 1024 need privileges: pick another --port)",
}

_EPILOG = """\
output: '# ' comments and 'export AYOLINX_...=...' lines, so it can be pasted or sourced
('ayolinx simulator > sim.env &  then  . ./sim.env'); --json prints the same as one JSON object.

exit status: 0 stopped by Ctrl-C or SIGTERM; 2 usage; 3 configuration (bad keys or options,
uvicorn missing); 4 network (the port is busy or cannot be bound: checked before anything is
printed).
"""


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    net = parser.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    net.add_argument(
        "--port", type=int, default=8080, help="port to bind (default 8080; 0 picks a free one)"
    )
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


def build_simulator(args: argparse.Namespace, *, port: int | None = None) -> Simulator:
    """A simulator from the command-line options (raises ``ConfigurationError`` on bad input).

    ``port`` is the port actually bound (``--port 0`` picks a free one); default ``args.port``.
    """
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
    host = f"[{args.host}]" if ":" in args.host else args.host
    return Simulator(
        account,
        ayolinx_key=Path(args.ayolinx_private_key) if args.ayolinx_private_key else None,
        token_lifetime=args.token_lifetime,
        timestamp_tolerance=args.timestamp_tolerance,
        time_scale=args.time_scale,
        auto_pay_after=args.auto_pay,
        faults=faults,
        seed=args.seed,
        base_url=f"http://{host}:{args.port if port is None else port}",
    )


def settings(sim: Simulator, keys_dir: Path, *, generated: bool = True) -> dict[str, Any]:
    """Write the key files; return the ``AYOLINX_*`` variables and what else a client needs.

    Secrets appear only when the simulator generated them (``generated``); a secret or key the
    caller supplied is already theirs and is never echoed.
    """
    from cryptography.hazmat.primitives import serialization

    keys_dir.mkdir(parents=True, exist_ok=True)
    account = sim.merchant
    public_path = keys_dir / "ayolinx_public.pem"
    public_path.write_bytes(sim.ayolinx_public_pem)
    env = {"AYOLINX_BASE_URL": sim.base_url, "AYOLINX_CLIENT_KEY": account.client_key}
    if generated:
        env["AYOLINX_CLIENT_SECRET"] = account.client_secret
    if account.private_key is not None and generated:
        private_path = keys_dir / "merchant_private.pem"
        private_path.write_bytes(
            account.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private_path.chmod(0o600)
        env["AYOLINX_PRIVATE_KEY_FILE"] = str(private_path)
    env["AYOLINX_PUBLIC_KEY_FILE"] = str(public_path)
    return {
        "base_url": sim.base_url,
        "admin_url": f"{sim.base_url}/_simulator/",
        "keys_dir": str(keys_dir),
        "env": env,
        "callback_url": account.callback_url,
        "va_snap_base_url": account.va_snap_base_url,
        "ayolinx_public_key_pem": sim.ayolinx_public_pem.decode("ascii"),
    }


def _shell_lines(info: dict[str, Any]) -> list[str]:
    """``export`` lines (values shell-quoted) and comments: the whole output can be sourced."""
    env: dict[str, str] = info["env"]
    lines = [
        f"# Ayolinx simulator on {info['base_url']}  (admin: {info['admin_url']})",
        "# Merchant credentials, valid for this simulator only (paste, or source this output):",
    ]
    if "AYOLINX_PRIVATE_KEY_FILE" in env:
        # Variables that would win over the files below (a key in AYOLINX_PRIVATE_KEY, a
        # password for an unencrypted key) are cleared.
        lines.append("unset AYOLINX_PRIVATE_KEY AYOLINX_PRIVATE_KEY_PASSWORD AYOLINX_PUBLIC_KEY")
    lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    if "AYOLINX_CLIENT_SECRET" not in env:
        lines.append("# AYOLINX_CLIENT_SECRET: the secret you gave (not shown)")
    if info["callback_url"]:
        lines.append(f"# Callbacks go to {info['callback_url']} unless a request names a URL.")
    if info["va_snap_base_url"]:
        lines.append(f"# SNAP VA callbacks go to {info['va_snap_base_url']}.")
    lines.append(
        f"# Ayolinx public key (verifies callbacks), also in {env['AYOLINX_PUBLIC_KEY_FILE']}:"
    )
    lines += [f"#   {line}" for line in info["ayolinx_public_key_pem"].splitlines()]
    return lines


def describe(
    sim: Simulator, keys_dir: Path, out: TextIO, *, generated: bool = True, as_json: bool = False
) -> None:
    """Write the key files and print how to point a client at the simulator."""
    info = settings(sim, keys_dir, generated=generated)
    if as_json:
        emit_json(info, out)
        return
    out.write("\n".join(_shell_lines(info)) + "\n")
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


def listen(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` now, so a busy port is one line (exit 4) before anything is printed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise NetworkError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    # Like uvicorn: a port in TIME_WAIT is reusable, one with a live listener is not.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        advice = _BIND_ADVICE.get(exc.errno or 0, "")
        raise NetworkError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}{advice}"
        ) from None
    return sock


def _serve(server: Any, sock: socket.socket) -> bool:
    """Run until Ctrl-C or SIGTERM; True when the server started (both stops are clean)."""
    stops: list[int] = []

    def stop(signum: int, frame: object) -> None:
        # Before uvicorn installs its own handlers, and when it re-raises the signal after its
        # graceful shutdown: note it instead of dying (SIGTERM) or raising KeyboardInterrupt.
        stops.append(signum)
        server.should_exit = True

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, stop) for sig in handled}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return bool(getattr(server, "started", False)) or bool(stops)


def _run(args: argparse.Namespace) -> int:
    # A ConfigurationError propagates to main(): one line, exit 3, traceback under --debug.
    sock = listen(args.host, args.port)
    try:
        sim = build_simulator(args, port=sock.getsockname()[1])
        server = make_server(sim, args.host, args.port, log_level=args.log_level)
        keys_dir = (
            Path(args.keys_dir) if args.keys_dir else Path(tempfile.mkdtemp(prefix="ayolinx-"))
        )
        describe(
            sim, keys_dir, sys.stdout, generated=args.client_key is None, as_json=wants_json(args)
        )
        return ExitCode.OK if _serve(server, sock) else ExitCode.FAILED
    finally:
        sock.close()


COMMAND = Command(
    name="simulator",
    help="run the Ayolinx simulator on a real port",
    description=__doc__,
    configure=_configure,
    run=_run,
    json_output=True,
)

"""The ``ayolinx`` command line.

Subcommands live in their own modules, each exposing a :class:`Command` (named ``COMMAND``
unless the registry entry says ``module:NAME``); :data:`TOOLS` and :data:`COMMANDS` are the one
place they are registered. Modules import heavy dependencies only inside ``run`` so
``ayolinx --help`` stays fast. ``main`` turns every error into one line on stderr and an exit
status from :class:`~ayolinx_async._cli._output.ExitCode`; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence

import attrs

from .._version import __version__
from ._output import (
    ExitCode,
    OneLineParser,
    add_global_options,
    describe_error,
    emit_json,
    global_options,
)

__all__ = ["COMMANDS", "TOOLS", "Command", "ExitCode", "build_parser", "main"]

#: Tools for integrating with the real Ayolinx (keys, signatures, live calls), in help order.
TOOLS: tuple[str, ...] = (
    "ayolinx_async._cli.doctor",
    "ayolinx_async._cli.keygen",
    "ayolinx_async._cli.sign",
    "ayolinx_async._cli.verify",
    "ayolinx_async._cli.live:TOKEN_COMMAND",
    "ayolinx_async._cli.live:CALL_COMMAND",
)

#: Offline commands built on the embedded simulator, in help order.
COMMANDS: tuple[str, ...] = (
    "ayolinx_async._cli.demo",
    "ayolinx_async._cli.serve",
    "ayolinx_async._cli.tracker",
)

_EPILOG = """\
integration tools: doctor, keygen, sign, verify-callback, token, call
offline:           demo, simulator
payment tracker:   tracker status|run

exit status: 0 ok; 1 signature invalid or Ayolinx answered a failure; 2 usage;
3 configuration (missing AYOLINX_* variables, unusable key); 4 network (no usable answer);
130 interrupted. Run 'ayolinx COMMAND --help' for a command's options.
"""


@attrs.frozen(kw_only=True, slots=True)
class Command:
    """One subcommand: its name, help line, argument setup and entry point (exit status).

    ``json_output``: the command honours ``--json`` (others refuse it as a usage error).
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
    json_output: bool = False


def _load(entry: str) -> Command:
    module_name, _, attribute = entry.partition(":")
    command = getattr(importlib.import_module(module_name), attribute or "COMMAND", None)
    if not isinstance(command, Command):
        raise TypeError(f"{entry} does not name a Command(...)")
    return command


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered subcommand."""
    parser = OneLineParser(
        prog="ayolinx",
        description="Tools for the ayolinx-async SDK: keys, signatures and live calls against"
        " Ayolinx; an offline demo and the Ayolinx simulator.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ayolinx-async {__version__}")
    add_global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for entry in (*TOOLS, *COMMANDS):
        command = _load(entry)
        sub = subparsers.add_parser(
            command.name,
            help=command.help,
            description=(command.description or command.help).replace("``", ""),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[global_options()],
        )
        command.configure(sub)
        sub.set_defaults(_run=command.run, _command=command, _prog=sub.prog)
    return parser


def _enable_debug_logging() -> None:
    """SDK logs (headers allow-listed, no secrets) to stderr at DEBUG."""
    logger = logging.getLogger("ayolinx_async")
    if not any(getattr(h, "_ayolinx_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._ayolinx_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _report(args: argparse.Namespace, exc: BaseException) -> int:
    """Print ``exc`` as one line (plus the traceback with ``--debug``); return the exit status."""
    code, category, message = describe_error(exc)
    if getattr(args, "debug", False):
        traceback.print_exception(exc, file=sys.stderr)
    hint = ""
    if category == "internal error" and not getattr(args, "debug", False):
        hint = " (run with --debug for the traceback)"
    prog = getattr(args, "_prog", None) or f"ayolinx {args.command}"
    print(f"{prog}: {category}: {message}{hint}", file=sys.stderr)
    if getattr(args, "json", False):
        emit_json(
            {
                "ok": False,
                "error": {"category": category, "message": message, "exit_code": int(code)},
            }
        )
    return int(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ayolinx`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    command: Command = args._command
    if getattr(args, "json", False) and not command.json_output:
        print(
            f"ayolinx {command.name}: usage error: --json is not supported by this command",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    if getattr(args, "debug", False):
        _enable_debug_logging()
    try:
        return int(run(args))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader (``| head``) went away: stop quietly, and keep the interpreter's final
        # flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.FAILED
    except Exception as exc:
        return _report(args, exc)

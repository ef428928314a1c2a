"""The ``ayolinx`` command line.

Subcommands live in their own modules, each exposing a :class:`Command` named ``COMMAND``;
:data:`COMMANDS` is the one place they are registered. Modules import heavy dependencies only
inside ``run`` so ``ayolinx --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

import attrs

from .._version import __version__

__all__ = ["COMMANDS", "Command", "build_parser", "main"]

#: Modules that define a subcommand, in ``--help`` order. Add new ones here.
COMMANDS: tuple[str, ...] = (
    "ayolinx_async.cli.demo",
    "ayolinx_async.cli.serve",
)


@attrs.frozen(kw_only=True, slots=True)
class Command:
    """One subcommand: its name, help line, argument setup and entry point (exit status)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def _load(module_name: str) -> Command:
    command = getattr(importlib.import_module(module_name), "COMMAND", None)
    if not isinstance(command, Command):
        raise TypeError(f"{module_name} does not define COMMAND = Command(...)")
    return command


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="ayolinx",
        description="Tools for the ayolinx-async SDK: an offline demo and the Ayolinx simulator.",
    )
    parser.add_argument("--version", action="version", version=f"ayolinx-async {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS:
        command = _load(module_name)
        sub = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(sub)
        sub.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ayolinx`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(run(args))
    except KeyboardInterrupt:
        return 130

"""``ayolinx tracker status|run``: the payment tracker's store at a glance, and its poller as a
process. The store comes from ``AYOLINX_TRACKER_STORE`` (a SQLite path or a ``postgresql://``
DSN) or ``--store``; ``run`` builds its client from the ``AYOLINX_*`` variables."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError
from . import Command
from ._output import emit_json, wants_json

if TYPE_CHECKING:
    from ..tracking import PaymentTracker, PollSchedule, TrackerStats

__all__ = ["COMMAND"]

STORE_VARIABLE = "AYOLINX_TRACKER_STORE"

_EPILOG = """\
status: counts by state and outcome, the oldest pending payment, when the next query is due.
run:    poll pending payments (and deliver outcomes to --listener functions) until Ctrl-C or
        SIGTERM. Run it on as many hosts as you like against one PostgreSQL: they share the
        work and one global rate limit.

exit status: 0 ok (run: stopped by Ctrl-C or SIGTERM); 2 usage; 3 configuration (no store, a
listener that cannot be imported, missing AYOLINX_* variables); 4 network.
"""


def _schedule(text: str) -> PollSchedule:
    from ..tracking import PollSchedule

    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            "give seconds separated by commas: 15,60,300,900"
        ) from None
    if not delays or min(delays) <= 0:
        raise argparse.ArgumentTypeError("every delay must be a positive number of seconds")
    return PollSchedule.of(delays)


#: The ``run`` options, passed to ``PaymentTracker`` under the same names: type, default, help.
_RUN_OPTIONS: dict[str, tuple[Callable[[str], Any], Any, str]] = {
    "rate_limit": (float, 10.0, "queries/s, all pollers"),
    "schedule": (_schedule, None, "seconds between queries: 15,60,300,900"),
    "grace": (float, 900.0, "seconds after expiry (900)"),
    "concurrency": (int, 10, "queries in flight (10)"),
    "idle_wait": (float, 1.0, "seconds between idle passes"),
    "listener_timeout": (float, 60.0, "seconds a listener may run (60)"),
    "lease": (
        float,
        300.0,
        "seconds before an outcome a dead process was delivering is offered again (300)",
    ),
}


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument("action", choices=("status", "run"), help="what to do")
    parser.add_argument("--store", help=f"store to use (default: ${STORE_VARIABLE})")
    poll = parser.add_argument_group("run")
    for name, (kind, default, help_text) in _RUN_OPTIONS.items():
        poll.add_argument("--" + name.replace("_", "-"), type=kind, default=default, help=help_text)
    poll.add_argument(
        "--listener",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="an async function to deliver outcomes to (repeatable)",
    )


def _store_spec(args: argparse.Namespace) -> str:
    spec = args.store or os.environ.get(STORE_VARIABLE, "")
    if not spec.strip():
        raise ConfigurationError(f"no tracker store: set {STORE_VARIABLE} or pass --store")
    return str(spec)


def _load_listener(entry: str) -> Any:
    module_name, _, attribute = entry.partition(":")
    try:
        listener = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"cannot load listener {entry!r}: {exc}") from None
    if not callable(listener):
        raise ConfigurationError(f"listener {entry!r} is not callable")
    return listener


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    moment = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
    return f"{moment} ({epoch - time.time():+.0f} s)"


def _describe(stats: TrackerStats) -> dict[str, Any]:
    return {
        "pending": stats.pending,
        "final": stats.final,
        "undelivered": stats.undelivered,
        "outcomes": dict(sorted(stats.by_outcome.items())),
        "oldest_pending": stats.oldest_pending,
        "oldest_pending_at": stats.oldest_pending_at,
        "next_poll_at": stats.next_poll_at,
    }


async def _status(args: argparse.Namespace) -> int:
    from ..tracking import PaymentTracker

    tracker = PaymentTracker(None, store=_store_spec(args), poll=False)
    await tracker.open()
    try:
        stats = await tracker.stats()
    finally:
        await tracker.close()
    if wants_json(args):
        emit_json({"ok": True, **_describe(stats)})
        return 0
    print(f"pending      {stats.pending}")
    print(f"final        {stats.final}")
    for kind, count in sorted(stats.by_outcome.items()):
        print(f"  {kind:<11}{count}")
    print(f"undelivered  {stats.undelivered}")
    oldest = f"{stats.oldest_pending} since {_when(stats.oldest_pending_at)}"
    print(f"oldest       {oldest if stats.oldest_pending else '-'}")
    print(f"next poll    {_when(stats.next_poll_at)}")
    return 0


def _tracker_for_run(args: argparse.Namespace, client: Any) -> PaymentTracker:
    from ..tracking import PaymentTracker

    options = {name: getattr(args, name) for name in _RUN_OPTIONS}
    tracker = PaymentTracker(client, store=_store_spec(args), **options)
    for entry in args.listener:
        tracker.on_outcome(_load_listener(entry), name=entry)
    return tracker


async def _run(args: argparse.Namespace) -> int:
    import anyio

    from .._client import AyolinxClient

    async with AyolinxClient.from_env() as client:
        tracker = _tracker_for_run(args, client)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(tracker.run)
                print(f"ayolinx tracker: polling {tracker.store!r}", flush=True)
                async for _ in signals:
                    tasks.cancel_scope.cancel()
                    break
    return 0


def _main(args: argparse.Namespace) -> int:
    import anyio

    return int(anyio.run(_status if args.action == "status" else _run, args))


COMMAND = Command(
    name="tracker",
    help="the payment tracker: status of its store, or run its poller",
    configure=_configure,
    run=_main,
    json_output=True,
)

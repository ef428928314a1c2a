"""Instructions per operation, counted by valgrind's callgrind, in process: a measure that
repeats to about 1% where this machine's timings wander by 30% (issue 15).

Each operation runs in a fresh interpreter twice, ``N`` times and 0 times after the same
set-up and warm-up; the difference over ``N`` is its cost. ``PYTHONHASHSEED`` is fixed and
one RSA key serves every operation of a run. Counts are not times: over real sockets the
same instructions cost 2-3x more, the caches being shared with the event loop and the HTTP
library. They show where the SDK's own work goes and whether a change reduced it. Needs
``valgrind`` (``apt-get install valgrind``); without it the section says so and is skipped.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import serialization

from ._clients import new_key
from ._report import Report

#: (operation, what it is, its floor or ``None``); the child module defines each.
_OPERATIONS = (
    ("floor", "same-layer floor's own work: inline signing + json.loads of the answer", None),
    ("request", "SDK `client.request` (canned transport)", "floor"),
    ("typed", "SDK typed `qris.query` (canned transport)", "floor"),
    ("request_model", "typed layer: `QrisQueryRequest(...)`", None),
    ("to_wire", "typed layer: `QrisQueryRequest.to_wire()`", None),
    ("from_response", "typed layer: `QrisQueryResponse.from_response`", None),
    ("asgi_bare", "bare ASGI app: RSA verify, JSON parse, ack", None),
    ("asgi_sdk", "SDK ASGI app (`CallbackASGIApp`, memory stores)", "asgi_bare"),
)
_COLLECTED = re.compile(rb"Collected : (\d+)")


def _count(name: str, count: int, key_file: str, deliveries: str) -> int:
    """Instructions of one child run (``count`` operations after set-up and warm-up)."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks._instructions_child",
            name,
            str(count),
            key_file,
            deliveries,
        ],
        capture_output=True,
        check=True,
        timeout=1800,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind gave no count for {name}: {done.stderr[-500:]!r}")
    return int(found.group(1))


def run(quick: bool = False) -> list[Report]:
    report = Report(
        title="Instructions per operation (callgrind, in process)",
        setup="",
        columns=["operation", "instructions per op", "SDK / its floor"],
    )
    if shutil.which("valgrind") is None:
        report.setup = "Skipped: valgrind is not installed (`apt-get install valgrind`)."
        return [report]
    count = 200 if quick else 1000
    from . import callbacks  # the signed deliveries the callback benchmarks send

    key = new_key()
    with tempfile.TemporaryDirectory() as folder:
        key_file = os.path.join(folder, "key.pem")
        with open(key_file, "wb") as file:
            file.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        deliveries = os.path.join(folder, "deliveries.pickle")
        bodies = [callbacks.notification(f"INSTR{index:08d}") for index in range(count + 250)]
        with open(deliveries, "wb") as file:
            pickle.dump([(callbacks.signed_pairs(key, body), body) for body in bodies], file)
        jobs = [(name, n) for name, _, _ in _OPERATIONS for n in (0, count)]

        def measure(job: tuple[str, int]) -> int:
            return _count(job[0], job[1], key_file, deliveries)

        # Counts do not depend on contention or cores: every core runs children (the section
        # process was pinned to the client core, and children inherit that).
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = dict(zip(jobs, pool.map(measure, jobs), strict=True))
    per_op = {
        name: (counts[(name, count)] - counts[(name, 0)]) / count for name, _, _ in _OPERATIONS
    }
    for name, label, floor in _OPERATIONS:
        ratio = per_op[name] / per_op[floor] if floor else None
        report.rows.append([label, round(per_op[name]), "" if ratio is None else ratio])
    report.setup = (
        f"Each operation {count} times after a warm-up of 200, minus the same run with 0, in a"
        " fresh interpreter under `valgrind --tool=callgrind` (PYTHONHASHSEED=0, one key per"
        " run); deterministic to ~1%. The typed call's canned answer is the counting server's"
        " body. Counts are not times (sockets make each instruction dearer); no goal is set"
        " on them: they locate the SDK's work."
    )
    typed_layer = per_op["typed"] - per_op["request"]
    report.notes.append(
        f"Typed layer (typed - request): {typed_layer:,.0f} instructions; request model"
        f" {per_op['request_model']:,.0f}, to_wire {per_op['to_wire']:,.0f}, from_response"
        f" {per_op['from_response']:,.0f}. SDK request path over the floor:"
        f" {per_op['request'] - per_op['floor']:,.0f}. SDK ASGI app over the bare one:"
        f" {per_op['asgi_sdk'] - per_op['asgi_bare']:,.0f}."
    )
    return [report]

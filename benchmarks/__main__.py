"""``python -m benchmarks [--quick] [p1 p2 p3 p4 memory]``: run benchmarks, print their tables.

With no names every benchmark runs. ``--quick`` cuts iterations (smoke run; numbers are noisy).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from . import BENCHMARKS
from ._report import Report, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {list(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    print(f"# ayolinx-async benchmarks\n\nMachine: {machine()}\n", flush=True)
    reports: list[Report] = []
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        began = time.perf_counter()
        for report in module.run(quick=args.quick):
            reports.append(report)
            print(report.render(), flush=True)
        print(f"\n({name} took {time.perf_counter() - began:.1f}s)\n", flush=True)
    checks = [check for report in reports for check in report.checks]
    if checks:
        print("## Goals\n")
        for check in checks:
            print(f"- {check.line()}")
    print(f"\nTotal {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

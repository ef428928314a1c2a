"""Benchmarks for ayolinx-async (``python -m benchmarks [--quick] [names…]``, ``nox -s bench``;
not part of the test run).

Every number is a ratio to a floor measured in the same run, on the same layer, in interleaved
rounds: absolute numbers drift on shared machines while ratios hold. The run rewrites
``benchmarks/README.md`` with its tables, the commit it ran on, the machine and the date.
"""

#: Benchmark name -> module (run in this order when no name is given).
BENCHMARKS = {
    "throughput": "benchmarks.throughput",
    "stampede": "benchmarks.stampede",
    "callbacks": "benchmarks.callbacks",
    "imports": "benchmarks.imports",
    "tracker": "benchmarks.tracker",
    "instructions": "benchmarks.instructions",
}

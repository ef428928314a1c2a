"""Benchmarks for ayolinx-async (``python -m benchmarks [names…]``; not part of the test run).

Every benchmark measures the SDK against a hand-written floor *in the same run* and reports the
ratio, because absolute numbers drift on shared machines while ratios hold.
"""

#: Benchmark name -> module (run in this order when no name is given).
BENCHMARKS = {
    "p1": "benchmarks.p1_overhead",
    "p2": "benchmarks.p2_stampede",
    "p3": "benchmarks.p3_loopback",
    "p4": "benchmarks.p4_callbacks",
    "memory": "benchmarks.memory",
}

"""X-EXTERNAL-ID generation: 33 digits (epoch milliseconds + 20 random digits), unique across
threads and across a fork, with every digit equally likely (ids are drawn from a batch of
random digits made by one ``os.urandom`` call)."""

from __future__ import annotations

import collections
import os
import sys
import threading
import time

import pytest

from ayolinx_async import _wire
from ayolinx_async._wire import new_external_id


def test_an_id_is_33_digits_starting_with_the_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    external_id = new_external_id()
    after = time.time_ns() // 1_000_000
    assert len(external_id) == 33
    assert external_id.isascii()
    assert external_id.isdigit()
    assert before <= int(external_id[:13]) <= after


def test_ids_from_many_threads_never_repeat() -> None:
    found: list[list[str]] = []

    def draw() -> None:
        found.append([new_external_id() for _ in range(5000)])

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [external_id for batch in found for external_id in batch]
    assert len(every) == 40_000
    assert len({external_id[13:] for external_id in every}) == 40_000


def test_random_digits_are_uniform() -> None:
    """Chi-square over 2,000,000 digits (9 degrees of freedom): the 0.9999 quantile is 33.7;
    the last-digit-of-a-byte rule without dropping 250-255 gives ~ 1,900 here."""
    digits = "".join(new_external_id()[13:] for _ in range(100_000))
    counts = collections.Counter(digits)
    expected = len(digits) / 10
    chi_square = sum((counts[str(d)] - expected) ** 2 / expected for d in range(10))
    assert chi_square < 33.7


def test_bytes_250_to_255_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = bytes([250, 3, 255, 12, 251, 7]) * 100

    def fake(size: int) -> bytes:
        return (pattern * (size // len(pattern) + 1))[:size]

    monkeypatch.setattr(os, "urandom", fake)
    kept = "327" * 14  # 3, 12 and 7 by their last digit; 250, 255 and 251 dropped
    # 84 bytes asked for 4 runs; half were dropped, so 42 digits make 2 (the caller asks again).
    assert _wire._random_digits(4) == [kept[0:20], kept[20:40]]
    _wire._RANDOM_DIGITS.clear()
    assert new_external_id()[13:] == kept[20:40]
    _wire._RANDOM_DIGITS.clear()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.skipif(sys.platform != "linux", reason="fork with threads is Linux-safe here")
def test_a_forked_child_does_not_reuse_the_parents_batch() -> None:
    new_external_id()  # the batch is filled and shared with a child forked now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write, "".join(new_external_id()[13:] for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = b""
    while chunk := os.read(read, 65536):
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    parent = "".join(new_external_id()[13:] for _ in range(50))
    assert len(child) == 1000
    assert child.decode() != parent
    child_runs = {child[i : i + 20].decode() for i in range(0, 1000, 20)}
    parent_runs = {parent[i : i + 20] for i in range(0, 1000, 20)}
    assert child_runs.isdisjoint(parent_runs)

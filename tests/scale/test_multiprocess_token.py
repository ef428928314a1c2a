"""4 OS processes x 250 coroutines on a cold Redis-shared token cache make exactly one token
request to one simulator served on a loopback port."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ayolinx_async import Credentials
from ayolinx_async._client import TOKEN_PATH
from ayolinx_async.simulator import Faults
from tests.scale._processes import run_workers, worker_config
from tests.scale._servers import RedisServer
from tests.scale._simulator import served_simulator, successful_generates, token_request_times

PROCESSES = 4
CALLS_PER_PROCESS = 250


@pytest.mark.slow
def test_four_processes_cold_cache_one_token_request(
    credentials: Credentials,
    merchant_private_pem: bytes,
    key_file: Path,
    shared_redis: RedisServer,
    prefix: str,
) -> None:
    # A slow token endpoint, so every process is still waiting while the first one fetches.
    slow_token = Faults(latency=0.2, paths={TOKEN_PATH})  # type: ignore[arg-type]
    with served_simulator(merchant_private_pem, faults=slow_token) as (simulator, base_url):
        config = worker_config(
            credentials, key_file, shared_redis, base_url, prefix, calls=CALLS_PER_PROCESS
        )
        started = time.monotonic()
        results = run_workers([config] * PROCESSES)
        elapsed = time.monotonic() - started
        assert len(token_request_times(simulator)) == 1
        assert successful_generates(simulator) == PROCESSES * CALLS_PER_PROCESS
    assert sum(r["token_fetches"] for r in results) == 1
    assert [r["failures"] for r in results] == [[]] * PROCESSES
    assert sum(r["ok"] for r in results) == PROCESSES * CALLS_PER_PROCESS
    print(f"{PROCESSES}x{CALLS_PER_PROCESS} QRIS generates in {elapsed:.2f}s, 1 token request")

"""Redis killed and restarted in the middle of a run: zero failed payment calls.

Three worker processes keep creating QRIS payments against the simulator with two-second tokens
refreshed halfway (so a request delayed by a busy CPU still arrives before expiry): every process
refreshes while Redis is down (and fetches locally), then shares tokens again once it is back.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from ayolinx_async import Credentials
from tests.scale._processes import run_workers, worker_config
from tests.scale._servers import RedisServer
from tests.scale._simulator import served_simulator, successful_generates, token_request_times

PROCESSES = 3
UP, DOWN, BACK = 0.8, 1.2, 1.5  # seconds of each phase


@pytest.mark.slow
def test_redis_restart_mid_run_fails_no_call(
    credentials: Credentials,
    merchant_private_pem: bytes,
    key_file: Path,
    own_redis: RedisServer,
    prefix: str,
) -> None:
    phases: dict[str, float] = {}

    def restart_redis() -> None:
        phases["go"] = time.time()
        time.sleep(UP)
        own_redis.stop(kill=True)  # a crash: no clean shutdown, every key lost
        phases["down"] = time.time()
        time.sleep(DOWN)
        own_redis.start()
        phases["back"] = time.time()

    with served_simulator(merchant_private_pem, token_lifetime=2) as (simulator, base_url):
        config = worker_config(
            credentials,
            key_file,
            own_redis,
            base_url,
            prefix,
            calls=20,
            duration=UP + DOWN + BACK,
            store_timeout=0.3,
            refresh_ratio=0.5,
        )
        results = run_workers([config] * PROCESSES, during=restart_redis)
        token_at = [t - phases["go"] for t in token_request_times(simulator)]
        created = successful_generates(simulator)

    assert [r["failures"] for r in results] == [[]] * PROCESSES
    assert created == sum(r["ok"] for r in results)
    down, back = phases["down"] - phases["go"], phases["back"] - phases["go"]
    for result in results:
        done = result["done_at"]
        assert any(t < down for t in done)
        assert any(down + 0.1 < t < back for t in done)  # payments kept succeeding while down
        assert any(t > back + 0.1 for t in done)
    while_down = [t for t in token_at if down < t < back]
    settled = [t for t in token_at if t > back + 0.3]
    # Every process had to refresh while Redis was gone, and did so locally ...
    assert len(while_down) >= PROCESSES, token_at
    # ... and once Redis was back they shared one token per refresh round again: no two
    # processes fetched within the same round (rounds are 1 s apart).
    assert settled, token_at
    assert all(later - earlier > 0.5 for earlier, later in itertools.pairwise(settled)), token_at
    print(f"payments={created} failures=0 token requests at {[round(t, 2) for t in token_at]}")

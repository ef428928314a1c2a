"""Start worker processes (``tests.scale._worker``), release them together, collect results."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ayolinx_async import Credentials
from tests.scale._servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]


def worker_config(
    credentials: Credentials,
    key_file: Path,
    redis: RedisServer,
    base_url: str,
    prefix: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "redis_url": redis.url,
        "prefix": prefix,
        "base_url": base_url,
        "client_key": credentials.client_key,
        "client_secret": credentials.client_secret,
        "private_key_file": str(key_file),
        **extra,
    }


def run_workers(
    configs: list[dict[str, Any]],
    *,
    during: Callable[[], None] | None = None,
    timeout: float = 60,
) -> list[dict[str, Any]]:
    """One worker per config (numbered in ``worker``); ``during`` runs right after all were
    told to go."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.scale._worker", json.dumps({**config, "worker": n})],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, config in enumerate(configs)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline().strip()
            if line != "ready":
                _, err = worker.communicate(timeout=timeout)
                raise AssertionError(f"worker did not start: {line!r} {err[-2000:]}")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        if during is not None:
            during()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=timeout)
            assert worker.returncode == 0, err[-2000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

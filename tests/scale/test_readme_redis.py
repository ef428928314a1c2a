"""The Redis section of the docs runs: blocks marked ``<!-- test: redis -->`` are executed with
``REDIS_URL`` pointing at a throw-away redis-server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scale._servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"<!-- test: redis -->\s*\n```python\n(.*?)\n```", re.DOTALL)
_SOURCES = (ROOT / "README.md",)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for source in _SOURCES:
        if source.exists():
            text = source.read_text(encoding="utf-8")
            found += [(source.name, m.group(1)) for m in _BLOCK.finditer(text)]
    return found


def test_docs_have_a_runnable_redis_block() -> None:
    assert _blocks()


@pytest.mark.parametrize(
    ("source", "code"), _blocks(), ids=[f"{name}-{n}" for n, (name, _) in enumerate(_blocks())]
)
def test_redis_docs_block_runs(
    source: str, code: str, shared_redis: RedisServer, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "REDIS_URL": shared_redis.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{source} block failed:\n{result.stderr[-3000:]}"

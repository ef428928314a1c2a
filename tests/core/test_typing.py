"""The typed surface holds for users' own code: ``mypy --strict`` on a small program."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
from ayolinx_async import AyolinxClient, Timeout

def good() -> AyolinxClient:
    return AyolinxClient.from_env(timeout=Timeout(total=3), max_retries=1)

def misspelt() -> AyolinxClient:
    return AyolinxClient.from_env(timout=3)

def wrong_type() -> AyolinxClient:
    return AyolinxClient.from_env(max_retries="2")
"""


@pytest.mark.slow
def test_mypy_rejects_a_misspelt_or_mistyped_from_env_option(tmp_path: Path) -> None:
    program = tmp_path / "user_code.py"
    program.write_text(PROGRAM, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(program),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert any(':8: error: Unexpected keyword argument "timout"' in e for e in errors), errors
    assert any(":11: error:" in e and "max_retries" in e for e in errors), errors
    assert not any(":5: error:" in e for e in errors), errors  # the correct call type-checks
    assert len(errors) == 2, result.stdout

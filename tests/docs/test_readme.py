"""Every README code block marked ``<!-- test: run -->`` is executed, so the docs cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"<!-- test: run -->\s*\n```python\n(.*?)\n```", re.DOTALL)
_SHELL = re.compile(r"<!-- test: shell -->\s*\n```bash\n(.*?)\n```", re.DOTALL)


def _blocks(pattern: re.Pattern[str] = _BLOCK) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in pattern.finditer(text)]


def test_readme_has_runnable_blocks() -> None:
    assert len(_blocks()) >= 1


@pytest.mark.parametrize(
    ("line", "code"), _blocks(), ids=lambda v: f"line{v}" if isinstance(v, int) else ""
)
def test_readme_block_runs(line: int, code: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"README block at line {line} failed:\n{result.stderr[-3000:]}"


@pytest.mark.parametrize(
    ("line", "code"), _blocks(_SHELL), ids=lambda v: f"line{v}" if isinstance(v, int) else ""
)
def test_readme_shell_block_runs(line: int, code: str, tmp_path: Path) -> None:
    """Shell blocks marked ``<!-- test: shell -->`` run under ``bash -e`` as typed, with the
    ``ayolinx`` command of this installation first on ``PATH``."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    for name in [n for n in env if n.startswith("AYOLINX_") or n.upper().endswith("_PROXY")]:
        del env[name]
    result = subprocess.run(
        ["bash", "-e", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, (
        f"README shell block at line {line} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )


def test_readme_has_shell_blocks() -> None:
    assert len(_blocks(_SHELL)) >= 1

"""``docs/readme-simulator.md`` stays true: its code table is the simulator's, its examples run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ayolinx_async.simulator import Case, Endpoint, code_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "readme-simulator.md"
_BLOCK = re.compile(r"<!-- test: run -->\s*\n```python\n(.*?)\n```", re.DOTALL)
_TABLE = re.compile(
    r"<!-- simulator-code-table:start -->\n(.*?)<!-- simulator-code-table:end -->", re.DOTALL
)


def test_published_code_table_matches_the_simulator() -> None:
    match = _TABLE.search(DOC.read_text(encoding="utf-8"))
    assert match is not None
    assert match.group(1) == code_table_markdown()


def test_code_table_covers_every_endpoint_and_case() -> None:
    table = code_table_markdown()
    for endpoint in Endpoint:
        assert f"`{endpoint.path}` | `{endpoint.success}`" in table
    for case in Case:
        assert f"`{case.http_status}xx{case.case}`" in table
    # The documented success codes (spec §7.2, §11).
    assert [e.success for e in Endpoint] == [
        "2007300", "2004700", "2005100", "2007700", "2005400", "2005500",
        "2002700", "2003000", "00", "00", "2000100",
    ]  # fmt: skip


@pytest.mark.parametrize("code", [m for m in _BLOCK.findall(DOC.read_text(encoding="utf-8"))])
def test_doc_examples_run(code: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr

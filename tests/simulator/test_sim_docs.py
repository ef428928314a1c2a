"""The README's simulator section stays true: its code table is the simulator's.

Its runnable examples are executed by ``tests/docs/test_readme.py`` with every other block.
"""

from __future__ import annotations

import re
from pathlib import Path

from ayolinx_async.simulator import Case, Endpoint, code_table_markdown

DOC = Path(__file__).resolve().parents[2] / "README.md"
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
        assert f"`{endpoint.path}` | `{endpoint.success_code}`" in table
    for case in Case:
        assert f"`{case.http_status}xx{case.case}`" in table
    # The documented success codes (docs/protocol.md §12.1, §17).
    assert [e.success_code for e in Endpoint] == [
        "2007300", "2004700", "2005100", "2007700", "2005400", "2005500",
        "2002700", "2003000", "00", "00", "2000100",
    ]  # fmt: skip

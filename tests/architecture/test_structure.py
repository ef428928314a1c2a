"""The package's shape: imports go one way (no cycles, function-level imports included), and
no library module grows past what one reader holds in their head."""

from __future__ import annotations

from tests.architecture._imports import PACKAGE_DIR, cycles, import_graph, module_files

MAX_MODULE_LINES = 450


def test_no_import_cycles_even_through_function_level_imports() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_library_module_is_over_450_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in module_files().items()
    }
    too_big = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert too_big == {}, too_big


def test_the_package_is_where_the_graph_says() -> None:
    assert (PACKAGE_DIR / "__init__.py").is_file()
    assert "ayolinx_async._client" in import_graph()

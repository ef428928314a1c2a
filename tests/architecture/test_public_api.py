"""The public API is a contract: ``ayolinx_async.__all__`` and each public package's ``__all__``
with every name's signature. A change to it must be a deliberate diff of ``public_api.txt``:
regenerate with ``python -m tests.architecture.test_public_api`` and review the diff."""

from __future__ import annotations

import difflib
import enum
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("public_api.txt")

#: The modules users import; everything else in the package is private by path.
PUBLIC_MODULES = (
    "ayolinx_async",
    "ayolinx_async.callbacks",
    "ayolinx_async.contrib",
    "ayolinx_async.contrib.redis",
    "ayolinx_async.integrations",
    "ayolinx_async.integrations.aiohttp",
    "ayolinx_async.integrations.asgi",
    "ayolinx_async.integrations.fastapi",
    "ayolinx_async.integrations.starlette",
    "ayolinx_async.models",
    "ayolinx_async.signing",
    "ayolinx_async.simulator",
    "ayolinx_async.testing",
    "ayolinx_async.tracking",
    "ayolinx_async.transport",
    "ayolinx_async.transport.aiohttp",
)


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(…)"


def _describe_class(name: str, cls: type) -> list[str]:
    if issubclass(cls, enum.Enum):
        members = ", ".join(f"{m.name}={m.value!r}" for m in cls)
        return [f"  enum {name}: {members}"]
    bases = ", ".join(b.__name__ for b in cls.__bases__ if b is not object)
    lines = [f"  class {name}({bases}){_signature(cls)}"]
    for attr in sorted(vars(cls)):
        if attr.startswith("_"):
            continue
        member = inspect.getattr_static(cls, attr)
        if isinstance(member, property):
            lines.append(f"    .{attr} (property)")
        elif isinstance(member, classmethod | staticmethod):
            lines.append(f"    .{attr}{_signature(getattr(cls, attr))}")
        elif inspect.isfunction(member):
            prefix = "async " if inspect.iscoroutinefunction(member) else ""
            lines.append(f"    {prefix}.{attr}{_signature(member)}")
    return lines


def describe(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        return [f"{module_name}: no __all__"]
    lines = [f"{module_name}"]
    for name in sorted(names):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            lines += _describe_class(name, obj)
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
            prefix = "async " if inspect.iscoroutinefunction(obj) else ""
            lines.append(f"  {prefix}def {name}{_signature(obj)}")
        elif inspect.ismodule(obj):
            lines.append(f"  module {name}")
        else:
            lines.append(f"  {name}: {type(obj).__name__} = {obj!r}"[:160])
    return lines


def current() -> str:
    text = "\n".join(line for m in PUBLIC_MODULES for line in describe(m)) + "\n"
    return re.sub(r" at 0x[0-9a-f]+", "", text)  # default values' reprs carry addresses


def _current_in_a_fresh_interpreter() -> str:
    """Computed in a child process: the suite's fixtures patch SDK classes while tests run."""
    code = (
        "import sys; from tests.architecture.test_public_api import current; "
        "sys.stdout.write(current())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
        encoding="utf-8",
    )
    return result.stdout


def test_public_api_matches_the_snapshot() -> None:
    now = _current_in_a_fresh_interpreter()
    recorded = SNAPSHOT.read_text(encoding="utf-8")
    if now != recorded:
        diff = "".join(
            difflib.unified_diff(
                recorded.splitlines(keepends=True),
                now.splitlines(keepends=True),
                "public_api.txt",
                "now",
            )
        )
        raise AssertionError(
            "the public API changed; if on purpose, regenerate with "
            "`python -m tests.architecture.test_public_api` and commit the diff:\n" + diff
        )


def test_every_public_name_is_importable_and_documented() -> None:
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not obj.__doc__:
                missing.append(f"{module_name}.{name}")
    assert missing == [], f"public names without a docstring: {missing}"


if __name__ == "__main__":
    SNAPSHOT.write_text(current(), encoding="utf-8")
    sys.stdout.write(f"wrote {SNAPSHOT}\n")

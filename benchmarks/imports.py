"""Import time: ``import ayolinx_async`` vs ``import httpx``, each in a fresh interpreter, best
of N, interleaved (the interpreter's own start-up is subtracted)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._report import Check, Report

GOAL = 1.3
_PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def _seconds(stmt: str, key: str, cache: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(stmt=stmt.replace("KEY", repr(key)))],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=_bytecode_env(cache),
    )
    return float(done.stdout)


def _bytecode_env(cache: str) -> dict[str, str]:
    """Every module loaded from bytecode, as from an installed wheel (pip compiles it): the
    bytecode goes to ``cache`` (``PYTHONPYCACHEPREFIX``), written by a warm-up run, even where
    ``PYTHONDONTWRITEBYTECODE`` is set. Without this a source checkout compiled the SDK on
    every run while httpx loaded from site-packages' bytecode: not the same layer."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _label(stmt: str) -> str:
    if "Credentials(" in stmt:
        return "`from ayolinx_async import …; AyolinxClient(credentials)` (PEM key)"
    return f"`{stmt}`"


def run(quick: bool = False) -> list[Report]:
    tries = 5 if quick else 15
    # ``import ayolinx_async`` alone may be lazy; what a user pays is the client's import.
    statements = (
        "import httpx",
        # The floor the client cannot go under: its core dependencies that httpx lacks.
        "import httpx, attrs, anyio",
        "import ayolinx_async",
        "from ayolinx_async import AyolinxClient",
        "import ayolinx_async.callbacks",
        "import ayolinx_async.models",
        # Lazy imports move cost to first use: what a process pays until its client exists
        # (the SDK's includes loading the RSA key, which needs cryptography).
        "import httpx; httpx.AsyncClient()",
        "from ayolinx_async import AyolinxClient, Credentials; AyolinxClient("
        "Credentials(client_key='k', client_secret='s', private_key=open(KEY).read()))",
    )
    best = {stmt: float("inf") for stmt in statements}
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with tempfile.TemporaryDirectory() as folder:
        key = os.path.join(folder, "key.pem")
        with open(key, "wb") as file:
            file.write(pem)
        cache = os.path.join(folder, "bytecode")
        for stmt in statements:
            _seconds(stmt, key, cache)  # warm-up: writes the bytecode
        for index in range(tries):
            for stmt in statements if index % 2 == 0 else statements[::-1]:
                best[stmt] = min(best[stmt], _seconds(stmt, key, cache))
    httpx_s = best["import httpx"]
    report = Report(
        title="Import time",
        setup=f"Fresh interpreter per import, best of {tries}, interleaved; every module"
        " loaded from bytecode (as installed; written by a warm-up run); milliseconds.",
        columns=["statement", "best ms", "ratio to import httpx"],
        rows=[[_label(stmt), best[stmt] * 1000, best[stmt] / httpx_s] for stmt in statements],
    )
    for stmt in statements[2:4]:
        report.checks.append(Check(f"{stmt} / import httpx", best[stmt] / httpx_s, "<=", GOAL))
    return [report]

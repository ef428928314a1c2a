"""Helpers for the CLI tool tests: run ``python -m ayolinx_async._cli`` in a clean environment,
serve the simulator on a real port, capture a simulator-signed callback."""

from __future__ import annotations

import base64
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async.simulator import MerchantAccount, Simulator
from ayolinx_async.simulator._accounts import public_pem

OPENSSL = "/usr/bin/openssl"


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without AYOLINX_* or proxies, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AYOLINX_")
        and k.upper() not in {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    }
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``ayolinx ARGS`` as a subprocess (``python -m ayolinx_async._cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "ayolinx_async._cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
        input=stdin,
        check=False,
    )


def cli_json(*args: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Run with ``--json``; return the exit status and the parsed stdout."""
    result = cli(*args, "--json", **kwargs)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert stderr is a single line without a traceback and return it."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def openssl(*args: str, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [OPENSSL, *args], capture_output=True, input=input_bytes, timeout=30, check=False
    )


def openssl_verifies(public_pem_path: Path, message: str, signature_b64: str, work: Path) -> bool:
    """``openssl dgst -sha256 -verify`` of a base64 SHA256withRSA signature over ``message``."""
    data = work / "message.txt"
    sig = work / "signature.bin"
    data.write_bytes(message.encode("utf-8"))
    sig.write_bytes(base64.b64decode(signature_b64))
    result = openssl(
        "dgst", "-sha256", "-verify", str(public_pem_path), "-signature", str(sig), str(data)
    )
    return result.returncode == 0 and b"Verified OK" in result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def exported(text: str) -> dict[str, str]:
    """The ``export NAME=VALUE`` lines of ``ayolinx simulator``'s output, values unquoted."""
    pairs = [shlex.split(line)[1] for line in text.splitlines() if line.startswith("export ")]
    return dict(pair.split("=", 1) for pair in pairs)


@attrs.frozen(kw_only=True)
class Served:
    """A running ``ayolinx simulator``: its base URL and the AYOLINX_* lines it printed."""

    base_url: str
    env: dict[str, str]


@contextmanager
def simulator_process(workdir: Path) -> Iterator[Served]:
    """``ayolinx simulator --host 127.0.0.1 --port N`` in a subprocess, until the block ends."""
    port = free_port()
    out_path = workdir / "simulator.out"
    err_path = workdir / "simulator.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "ayolinx_async._cli", "simulator",
                "--host", "127.0.0.1", "--port", str(port),
                "--keys-dir", str(workdir / "simkeys"), "--seed", "7",
            ],
            stdout=out,
            stderr=err,
            env=clean_env(),
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base_url, trust_env=False) as http:
            while True:
                try:
                    if http.get("/_simulator/").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, err_path.read_text()
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.05)
        env = exported(out_path.read_text())
        assert env["AYOLINX_BASE_URL"] == base_url
        yield Served(base_url=base_url, env=env)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@attrs.frozen(kw_only=True)
class CapturedCallback:
    """One callback as the simulator POSTed it to the merchant."""

    path: str
    timestamp: str
    signature: str
    body: bytes


def capture_simulator_callback(
    ayolinx_key: rsa.RSAPrivateKey, callback_url: str, reference: str
) -> CapturedCallback:
    """Create a QRIS payment in an in-process simulator, pay it and catch the signed callback."""
    captured: list[httpx.Request] = []

    def merchant(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, json={"responseCode": "2005600", "responseMessage": "OK"})

    async def run() -> None:
        account = MerchantAccount.generate(callback_url=callback_url)
        shop = httpx.AsyncClient(transport=httpx.MockTransport(merchant))
        sim = Simulator(account, ayolinx_key=ayolinx_key, http_client=shop)
        async with shop, sim, sim.client() as client:
            await client.qris.generate(partner_reference_no=reference, amount="15000.00")
            await sim.pay(reference)
            await sim.drain(timeout=10)

    anyio.run(run)
    [request] = captured
    return CapturedCallback(
        path=request.url.path,
        timestamp=request.headers["x-timestamp"],
        signature=request.headers["x-signature"],
        body=request.content,
    )


def write_public_pem(key: rsa.RSAPrivateKey, path: Path) -> Path:
    path.write_bytes(public_pem(key.public_key()))
    return path

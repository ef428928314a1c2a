"""``ayolinx simulator`` as a real subprocess: a busy port is one line (exit 4) before any
banner, ``--json`` works, the output is ``export`` lines a shell can source, and SIGTERM stops
it as cleanly as Ctrl-C (exit 0)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from ._tools import clean_env, cli, exported, free_port, one_line_error


@contextmanager
def started(*args: str, workdir: Path) -> Iterator[subprocess.Popen[str]]:
    """``ayolinx simulator ARGS``; the process is stopped (or killed) when the block ends."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ayolinx_async._cli",
            "simulator",
            "--keys-dir",
            str(workdir),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def wait_ready(base_url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=base_url, trust_env=False) as http:
        while True:
            try:
                if http.get("/_simulator/").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the simulator exited"
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)


def read_banner(stream: IO[str], *, until: str) -> str:
    """Lines of stdout up to and including the first line starting with ``until``."""
    seen: list[str] = []
    while True:
        line = stream.readline()
        assert line, "stdout ended: " + "".join(seen)
        seen.append(line)
        if line.startswith(until):
            return "".join(seen)


def test_a_busy_port_is_one_line_and_exit_4_before_any_banner() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("simulator", "--port", str(port))
        as_json = cli("simulator", "--port", str(port), "--json")
    assert result.returncode == 4
    assert result.stdout == ""  # no credentials banner before the error
    assert one_line_error(result) == (
        f"ayolinx simulator: network error: cannot listen on 127.0.0.1:{port}: Address already"
        " in use (another server uses it: pick another --port)"
    )
    assert as_json.returncode == 4
    assert json.loads(as_json.stdout)["error"]["exit_code"] == 4


def test_help_documents_the_exit_statuses() -> None:
    text = " ".join(cli("simulator", "--help").stdout.split())
    assert "4 network (the port is busy or cannot be bound" in text
    assert "0 stopped by Ctrl-C or SIGTERM" in text


def test_json_prints_the_settings_and_sigterm_exits_0(tmp_path: Path) -> None:
    with started("--port", "0", "--json", workdir=tmp_path) as proc:
        assert proc.stdout is not None
        info = json.loads(read_banner(proc.stdout, until="}"))
        wait_ready(info["base_url"], proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out == ""  # one JSON document, nothing after it
    env = info["env"]
    assert env["AYOLINX_BASE_URL"] == info["base_url"]
    assert info["base_url"].startswith("http://127.0.0.1:")
    assert info["admin_url"] == info["base_url"] + "/_simulator/"
    assert env["AYOLINX_CLIENT_SECRET"].startswith("SKSandbox-")
    assert Path(env["AYOLINX_PRIVATE_KEY_FILE"]).read_text().startswith("-----BEGIN PRIVATE KEY")
    assert Path(env["AYOLINX_PUBLIC_KEY_FILE"]).read_text() == info["ayolinx_public_key_pem"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_export_lines_can_be_sourced_and_a_signal_stops_it_with_exit_0(
    tmp_path: Path, stop: signal.Signals
) -> None:
    keys = tmp_path / "it's my keys"  # a quote and a space: the values must be shell-quoted
    port = free_port()
    with started("--port", str(port), workdir=keys) as proc:
        assert proc.stdout is not None
        banner = read_banner(proc.stdout, until="#   -----END PUBLIC KEY-----")
        wait_ready(f"http://127.0.0.1:{port}", proc)
        env_file = tmp_path / "simulator.env"
        env_file.write_text(banner)
        # Source it in a shell that has a stale key and password set: the output clears them.
        shell = subprocess.run(
            ["bash", "-c", '. "$1" && exec "$2" -m ayolinx_async._cli token', "-",
             str(env_file), sys.executable],
            env=clean_env(AYOLINX_PRIVATE_KEY="stale", AYOLINX_PRIVATE_KEY_PASSWORD="x"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=20)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert shell.stdout.startswith(f"OK   POST http://127.0.0.1:{port}/v1.0/access-token/b2b")
    first = banner.splitlines()[0]
    assert first.startswith(f"# Ayolinx simulator on http://127.0.0.1:{port}")
    values = exported(banner)
    assert values["AYOLINX_PRIVATE_KEY_FILE"] == str(keys / "merchant_private.pem")
    assert "export AYOLINX_PRIVATE_KEY_FILE='" in banner  # quoted, as shlex.quote does
    assert all(line.startswith(("# ", "export ", "unset ")) for line in banner.splitlines()), banner
    assert proc.returncode == 0, err
    assert "Traceback" not in err

"""The simulator on a real 127.0.0.1 port (uvicorn): products, callbacks and dropped connections
over loopback, plus the ``ayolinx simulator`` command itself."""

from __future__ import annotations

import argparse
import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ayolinx_async import (
    AyolinxClient,
    ConfigurationError,
    ConnectionDroppedError,
    OutcomeUnknownError,
)
from ayolinx_async._cli.serve import build_simulator, describe, make_server
from ayolinx_async.callbacks import CallbackEvent, CallbackHandler, NotifyRoute
from ayolinx_async.integrations.asgi import CallbackASGIApp
from ayolinx_async.simulator import DeliveryState, MerchantAccount, Simulator

from ._helpers import qr_body

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = make_server(app, "127.0.0.1", port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: server.serve(sockets=[sock]))
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn only exposes a flag
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
    sock.close()


async def test_products_and_callbacks_over_loopback(
    merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    events: list[CallbackEvent] = []

    async def on_event(event: CallbackEvent) -> None:
        events.append(event)

    account_args: dict[str, Any] = {
        "client_key": "CKSandbox-loopback",
        "client_secret": "SKSandbox-loopback",
    }
    handler = CallbackHandler(
        **account_args,
        ayolinx_public_keys=ayolinx_key.public_key(),
        on_event=on_event,
        routes=(NotifyRoute(path="/hooks/ayolinx"),),
    )
    async with serving(CallbackASGIApp(handler)) as merchant_url:
        account = MerchantAccount.from_keys(
            **account_args,
            private_key=merchant_key,
            callback_url=merchant_url + "/hooks/ayolinx",
        )
        sim = Simulator(account, ayolinx_key=ayolinx_key, seed=1)
        async with serving(sim) as sim_url:
            assert sim.running  # lifespan started the background work
            async with AyolinxClient(sim.credentials(), base_url=sim_url) as client:
                created = await client.qris.generate(
                    partner_reference_no="LOOP-1", amount="12000.00"
                )
                assert created.qr_content
                await sim.pay("LOOP-1")
                await sim.drain(timeout=10)
                status = await client.qris.query(original_partner_reference_no="LOOP-1")
            async with httpx.AsyncClient(base_url=sim_url) as admin:
                listed = (await admin.get("/_simulator/transactions")).json()
                pem = (await admin.get("/_simulator/keys/ayolinx-public.pem")).content
        assert not sim.running  # lifespan shutdown stopped it
    assert status.latest_transaction_status == "00"
    [delivery] = sim.deliveries("LOOP-1")
    assert delivery.state is DeliveryState.DELIVERED
    assert delivery.attempts[0].status_code == 200
    assert [e.original_partner_reference_no for e in events] == ["LOOP-1"]
    assert listed[0]["latestTransactionStatus"] == "00"
    assert pem == sim.ayolinx_public_pem


async def test_dropped_response_on_a_real_socket(
    merchant_key: rsa.RSAPrivateKey, ayolinx_key: rsa.RSAPrivateKey
) -> None:
    account = MerchantAccount.from_keys(
        client_key="CK-drop", client_secret="SK-drop", private_key=merchant_key
    )
    sim = Simulator(account, ayolinx_key=ayolinx_key)
    async with serving(sim) as url:
        async with AyolinxClient(sim.credentials(), base_url=url, max_retries=0) as client:
            await client.get_access_token()
            sim.inject_fault("drop", path="/v1.0/qr/qr-mpm-generate")
            with pytest.raises(OutcomeUnknownError) as info:
                await client.request("/v1.0/qr/qr-mpm-generate", qr_body("DROP-1"))
        # The server acted before it hung up: the QR exists.
        assert sim.transaction("DROP-1").status == "01"
        assert isinstance(info.value.cause, ConnectionDroppedError)
        # At the socket level: no status line at all, not a 500.
        sim.inject_fault("drop")
        async with httpx.AsyncClient(base_url=url) as raw:
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                await raw.post("/v1.0/access-token/b2b", content=b"{}")
            # The server is still healthy afterwards.
            assert (await raw.get("/_simulator/")).status_code == 200
    assert sim.requests()[-1].fault == "drop"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_ayolinx_simulator_command_serves_and_prints_credentials(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYOLINX_")}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "ayolinx_async._cli", "simulator",
            "--port", str(port), "--keys-dir", str(tmp_path), "--seed", "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            while True:
                try:
                    index = await http.get("/_simulator/")
                    break
                except httpx.ConnectError:
                    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                    assert time.monotonic() < deadline, "simulator did not start"
                    await anyio.sleep(0.1)
        assert index.status_code == 200
        client_key = index.json()["merchant"]
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does; uvicorn shuts down gracefully
        out, err = proc.communicate(timeout=20)
    lines = dict(
        shlex.split(line)[1].split("=", 1)
        for line in out.splitlines()
        if line.startswith("export ")
    )
    assert lines["AYOLINX_BASE_URL"] == f"http://127.0.0.1:{port}"
    assert lines["AYOLINX_CLIENT_KEY"] == client_key
    assert lines["AYOLINX_CLIENT_SECRET"].startswith("SKSandbox-")
    assert Path(lines["AYOLINX_PRIVATE_KEY_FILE"]).read_text().startswith("-----BEGIN PRIVATE KEY")
    assert Path(lines["AYOLINX_PUBLIC_KEY_FILE"]) == tmp_path / "ayolinx_public.pem"
    assert "-----BEGIN PUBLIC KEY-----" in out
    # Ctrl-C ends it cleanly, exit 0, never with a traceback.
    assert proc.returncode == 0, err
    assert "Traceback" not in err


async def test_simulator_options_accept_given_credentials(
    tmp_path: Path, merchant_key: rsa.RSAPrivateKey, merchant_public_pem: bytes
) -> None:
    public = tmp_path / "merchant_public.pem"
    public.write_bytes(merchant_public_pem)
    args = argparse.Namespace(
        host="127.0.0.1", port=9999, client_key="CK-given", client_secret="SK-given",
        merchant_public_key=str(public), merchant_private_key=None, ayolinx_private_key=None,
        callback_url="http://127.0.0.1:9/cb", va_snap_base_url=None, token_lifetime=60,
        timestamp_tolerance=30.0, time_scale=0.5, auto_pay=2.0, latency=0.0, error_rate=0.1,
        drop_rate=0.0, seed=1,
    )  # fmt: skip
    sim = build_simulator(args)
    assert sim.merchant.client_key == "CK-given"
    assert sim.merchant.private_key is None
    assert sim.token_lifetime == 60
    assert sim.time_scale == 0.5
    assert sim.faults.error_rate == 0.1
    out = io.StringIO()
    describe(sim, tmp_path / "keys", out)
    text = out.getvalue()
    assert "AYOLINX_CLIENT_SECRET=SK-given" in text  # describe() default: generated account
    hidden = io.StringIO()
    describe(sim, tmp_path / "keys2", hidden, generated=False)
    assert "SK-given" not in hidden.getvalue()  # a secret the caller gave is never echoed
    assert "AYOLINX_PRIVATE_KEY_FILE" not in text  # the simulator does not have it
    assert "Callbacks go to http://127.0.0.1:9/cb" in text
    bad = argparse.Namespace(**{**vars(args), "client_secret": None})
    with pytest.raises(ConfigurationError, match="both --client-key and --client-secret-file"):
        build_simulator(bad)


@pytest.mark.anyio
async def test_an_error_inside_async_with_simulator_is_the_original_exception() -> None:
    """Not an ExceptionGroup: a caller's ``except ConfigurationError`` must work (issue 14)."""
    from ayolinx_async import ConfigurationError
    from ayolinx_async.simulator import Simulator

    async def use_a_closed_client() -> None:
        async with Simulator() as sim:
            client = sim.client()
            await client.aclose()
            await client.get_access_token()  # a closed client: ConfigurationError

    with pytest.raises(ConfigurationError, match="closed") as info:
        await use_a_closed_client()
    assert not isinstance(info.value, BaseExceptionGroup)

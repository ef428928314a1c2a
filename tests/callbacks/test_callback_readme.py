"""The README's FastAPI callback snippet is short and actually works."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._helpers import CLIENT_KEY, CLIENT_SECRET, FakeClock, notify_headers, qris_body

DOC = Path(__file__).resolve().parents[2] / "README.md"


def _snippet() -> str:
    match = re.search(
        r"<!-- test: fastapi-snippet -->\s*\n```python\n(.*?)```", DOC.read_text(), re.DOTALL
    )
    assert match is not None
    return match.group(1)


def test_snippet_is_at_most_15_lines() -> None:
    assert len(_snippet().strip().splitlines()) <= 15


@pytest.mark.anyio
async def test_snippet_serves_a_signed_callback(
    ayolinx_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pem = ayolinx_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("AYOLINX_CLIENT_KEY", CLIENT_KEY)
    monkeypatch.setenv("AYOLINX_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("AYOLINX_PUBLIC_KEY", pem.decode())
    monkeypatch.delenv("AYOLINX_CALLBACK_PATH", raising=False)
    namespace: dict[str, object] = {}
    exec(compile(_snippet(), str(DOC), "exec"), namespace)
    body = qris_body()
    headers = notify_headers(ayolinx_key, body, FakeClock().stamp())
    transport = httpx.ASGITransport(app=namespace["app"])  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        response = await client.post("/ayolinx/notify", content=body, headers=headers)
    assert response.json() == {"responseCode": "2005600", "responseMessage": "Successful"}
    assert "QrisNotification SUCCESS" in capsys.readouterr().out

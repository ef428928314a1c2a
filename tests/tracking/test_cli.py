"""``ayolinx tracker status``: counts, outcomes, the oldest pending and the next poll, read
from the store named by ``AYOLINX_TRACKER_STORE``; a missing store is a configuration error."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from ayolinx_async._cli import main
from ayolinx_async.tracking import OutcomeKind, OutcomeSource, PaymentOutcome, PaymentTracker


async def _fill(path: Path) -> None:
    tracker = PaymentTracker(None, store=str(path), poll=False)
    await tracker.open()
    for reference in ("OLD", "NEW", "DONE"):
        await tracker.track(reference, product="qris", amount="100")
    payment = await tracker.store.find("DONE")
    assert payment is not None
    await tracker.store.finalize(
        PaymentOutcome(
            reference="DONE",
            product=payment.product,
            kind=OutcomeKind.PAID,
            source=OutcomeSource.POLL,
            decided_at=payment.created_at,
        )
    )
    await tracker.close()


def test_status_reads_the_store_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "payments.db"
    anyio.run(_fill, path)
    monkeypatch.setenv("AYOLINX_TRACKER_STORE", str(path))
    assert main(["tracker", "status"]) == 0
    out = capsys.readouterr().out
    assert "pending      2" in out
    assert "paid       1" in out
    assert "undelivered  1" in out
    assert "oldest       OLD since" in out
    assert main(["tracker", "status", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["pending"] == 2
    assert document["outcomes"] == {"paid": 1}
    assert document["oldest_pending"] == "OLD"


def test_status_without_a_store_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AYOLINX_TRACKER_STORE", raising=False)
    assert main(["tracker", "status"]) == 3
    assert "AYOLINX_TRACKER_STORE" in capsys.readouterr().err

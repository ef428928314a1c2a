"""``ayolinx demo --lossy``: every product with 100 % of callbacks dropped, and the payment
tracker still learning each outcome, by polling (payment links, which have no status query,
end ``unresolved`` after expiry plus grace: never a guess)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TextIO

import anyio

from .._client import AyolinxClient
from ..simulator import Faults, Simulator
from ..tracking import OutcomeKind, PaymentOutcome, PaymentTracker, PollSchedule

__all__ = ["EXPECTED", "run_lossy"]

NOTIFY_URL = "https://merchant.example/ayolinx/notify"
#: What each product must end as: paid by polling, or (links) unresolved.
EXPECTED = {
    "QRIS": OutcomeKind.PAID,
    "DANA e-wallet": OutcomeKind.PAID,
    "Virtual account": OutcomeKind.PAID,
    "Retail": OutcomeKind.EXPIRED,
    "Payment link": OutcomeKind.UNRESOLVED,
}


def _ref(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


def _soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def _create_all(client: AyolinxClient, sim: Simulator) -> dict[str, str]:
    """Create one payment per product (tracked), then pay or expire it at the simulator."""
    from ..models import PaymentLinkItem

    made: dict[str, str] = {}
    ref = made["QRIS"] = _ref("QR")
    await client.qris.generate(partner_reference_no=ref, amount="25000", track=True)
    await sim.pay(ref)
    ref = made["DANA e-wallet"] = _ref("DANA")
    paid = await client.ewallet.create_payment(
        partner_reference_no=ref,
        amount="30000",
        return_url="https://merchant.example/thanks",
        notification_url=NOTIFY_URL,
        valid_up_to=_soon(3600),
        track=True,
    )
    await sim.pay(paid.reference_no or ref)
    ref = made["Virtual account"] = _ref("VA")
    await client.virtual_accounts.create(
        channel="VIRTUAL_ACCOUNT_BNI",
        trx_id=ref,
        customer_no=f"{secrets.randbelow(10**12):012d}",
        virtual_account_name="Demo Customer",
        total_amount="150000",
        track=True,
    )
    await sim.pay(ref)
    ref = made["Retail"] = _ref("RT")
    await client.retail.create(
        partner_reference_no=ref,
        amount="45000",
        channel="RETAIL_ALFAMIDI",
        valid_up_to=_soon(86400),
        customer_name="Demo Customer",
        customer_email="customer@example.com",
        notification_url=NOTIFY_URL,
        track=True,
    )
    await sim.expire(ref)
    ref = made["Payment link"] = _ref("PL")
    link = await client.payment_links.create(
        partner_reference_no=ref,
        items=[PaymentLinkItem(name="Kopi susu", price=20000, quantity=2)],
        customer_name="Demo Customer",
        customer_email="customer@example.com",
        expiry_time=_soon(2),
        notification_url=NOTIFY_URL,
        track=True,
    )
    await sim.pay(link.link_id or ref, channel="BNC_QRIS")
    return made


async def run_lossy(out: TextIO | None = None) -> dict[str, PaymentOutcome | None]:
    """Run the lossy demo; each product's outcome (``None`` if none arrived in time)."""
    outcomes: dict[str, PaymentOutcome] = {}
    all_in = anyio.Event()
    expected = len(EXPECTED)
    async with Simulator(faults=Faults(drop_callbacks=1.0)) as sim, sim.client() as client:
        tracker = PaymentTracker(
            client, store="memory", schedule=PollSchedule.of([0.05, 0.2]), grace=0.5
        )

        @tracker.on_outcome
        async def record(outcome: PaymentOutcome) -> None:
            outcomes[outcome.reference] = outcome
            if len(outcomes) == expected:
                all_in.set()

        async with tracker:
            made = await _create_all(client, sim)
            await sim.drain(timeout=5)
            dropped = sum(len(sim.deliveries(r)) for r in made.values())
            if out is not None:
                out.write(f"created {len(made)} payments; callbacks delivered: {dropped}\n")
            with anyio.move_on_after(15):
                await all_in.wait()
    return {product: outcomes.get(ref) for product, ref in made.items()}


def render(results: dict[str, PaymentOutcome | None], marks: tuple[str, str] = ("✔", "✘")) -> str:
    """One line per product: the outcome, where it came from, whether it is the expected one."""
    lines = []
    for product, outcome in results.items():
        kind = outcome.kind.value if outcome is not None else "(none)"
        source = outcome.source.value if outcome is not None else "-"
        mark = marks[0] if outcome is not None and outcome.kind is EXPECTED[product] else marks[1]
        lines.append(f"{mark} {product:<16} {kind:<12} from {source}")
    return "\n".join(lines) + "\n"


def run_and_report(out: TextIO) -> int:
    """``ayolinx demo --lossy``: exit 0 when every product ended as expected."""
    out.write("ayolinx demo --lossy: 100 % of callbacks dropped; the tracker polls\n")
    started = time.perf_counter()
    results = anyio.run(run_lossy, out)
    try:
        "✔✘".encode(getattr(out, "encoding", None) or "utf-8")
        marks = ("✔", "✘")
    except (LookupError, UnicodeEncodeError):
        marks = ("OK", "NO")  # a terminal that cannot show the check marks
    out.write(render(results, marks))
    out.write(f"Finished in {time.perf_counter() - started:.2f} s.\n")
    ok = all(o is not None and o.kind is EXPECTED[p] for p, o in results.items())
    return 0 if ok else 1

"""``ayolinx demo``: every product end to end, offline, against the embedded simulator.

No credentials, no network: the simulator runs in process, generates a merchant account, and
delivers its signed callbacks to the SDK's own callback handler (also in process). For each
product: access token → create → simulated payment → callback received and verified → status
query shows ``00``. The virtual account goes through the SNAP flow (the simulator fetches a
token from the merchant's token endpoint, then posts the VA payment). Exit status 0 only if
every step succeeded.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

import anyio
import attrs

from . import Command

if TYPE_CHECKING:
    from .._client import AyolinxClient
    from ..callbacks import CallbackEvent
    from ..models._common import TransactionStatusResponse
    from ..simulator import Simulator

__all__ = ["COMMAND", "DemoReport", "StepResult", "run_demo"]

MERCHANT_ORIGIN = "http://merchant.demo"
NOTIFY_PATH = "/ayolinx/notify"
STEPS = ("create", "payment", "callback", "status")
PRODUCTS = ("QRIS", "DANA e-wallet", "Virtual account (SNAP)", "Retail", "Payment link")


@attrs.frozen(kw_only=True, slots=True)
class StepResult:
    """One step of the walk: which product, which step, whether it worked, and what happened."""

    product: str
    step: str
    ok: bool
    detail: str


@attrs.define(slots=True)
class DemoReport:
    """Everything the demo did, in order."""

    steps: list[StepResult] = attrs.Factory(list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps) and self._complete()

    def _complete(self) -> bool:
        done = {(s.product, s.step) for s in self.steps}
        return all((p, step) in done for p in PRODUCTS for step in STEPS)

    def result(self, product: str, step: str) -> StepResult | None:
        return next((s for s in self.steps if s.product == product and s.step == step), None)


class _Inbox:
    """The merchant's callback listener: keeps every verified event by transaction reference."""

    def __init__(self) -> None:
        self.events: dict[str, CallbackEvent] = {}

    async def __call__(self, event: CallbackEvent) -> None:
        from ..callbacks import VaPaymentRequest

        if isinstance(event, VaPaymentRequest):
            key = event.trx_id or event.virtual_account_no
        else:
            key = event.original_partner_reference_no or event.reference
        self.events[key] = event


class _Walk:
    """Runs one product's steps in order, stopping at the first failure."""

    def __init__(self, report: DemoReport, product: str, out: TextIO | None) -> None:
        self._report = report
        self._product = product
        self._out = out
        self.failed = False

    async def step(self, name: str, action: Callable[[], Awaitable[str]]) -> None:
        if self.failed:
            self._add(name, False, "skipped after an earlier failure")
            return
        try:
            detail = await action()
        except Exception as exc:
            self.failed = True
            self._add(name, False, f"{type(exc).__name__}: {exc}")
            return
        self._add(name, True, detail)

    async def run(self, *actions: Callable[[], Awaitable[str]]) -> None:
        """A product's four steps (:data:`STEPS`), in order."""
        for name, action in zip(STEPS, actions, strict=True):
            await self.step(name, action)

    def show(self, text: str) -> None:
        """Print extra output (e.g. the QR picture) under the step lines."""
        if self._out is not None:
            self._out.write(text)

    def _add(self, name: str, ok: bool, detail: str) -> None:
        self._report.steps.append(
            StepResult(product=self._product, step=name, ok=ok, detail=detail)
        )
        if self._out is not None:
            mark = "ok  " if ok else "FAIL"
            self._out.write(f"  [{mark}] {self._product:<23} {name:<9} {detail}\n")
            self._out.flush()


class _DemoError(Exception):
    """A step's check did not hold."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _DemoError(message)


async def _paid(query: Awaitable[TransactionStatusResponse], name: str) -> str:
    """The status step: the product's status query must show ``00`` (paid)."""
    answer = await query
    _expect(answer.latest_transaction_status == "00", f"{name} does not show 00")
    return f"{answer.response_code}, latestTransactionStatus=00"


async def _await_callback(sim: Simulator, inbox: _Inbox, key: str, reference: str) -> str:
    """Wait for the simulator's delivery and check the merchant handler accepted it."""
    from ..callbacks import VaPaymentRequest
    from ..simulator import DeliveryState

    await sim.drain(timeout=30)
    deliveries = sim.deliveries(reference)
    _expect(bool(deliveries), "the simulator sent no callback")
    last = deliveries[-1]
    _expect(
        last.state is DeliveryState.DELIVERED,
        f"callback not acknowledged: {last.attempts[-1].response if last.attempts else '-'}",
    )
    event = inbox.events.get(key)
    _expect(event is not None, "the callback handler dispatched no event")
    answer = last.attempts[-1]
    status = "00" if isinstance(event, VaPaymentRequest) else getattr(event, "status", "?")
    return (
        f"{type(event).__name__} verified (status {status}); "
        f"merchant answered HTTP {answer.status_code}, attempt {answer.number}"
    )


async def run_demo(out: TextIO | None = None, *, seed: int | None = None) -> DemoReport:
    """Walk every product; write progress to ``out`` (if given) and return the report."""
    import httpx

    from .._client import AyolinxClient
    from ..callbacks import CallbackHandler, NotifyRoute, TokenRoute, VaPaymentRoute
    from ..integrations.asgi import CallbackASGIApp
    from ..simulator import MerchantAccount, Simulator
    from ..simulator._accounts import generate_rsa_key

    report = DemoReport()
    account = MerchantAccount.generate(
        callback_url=MERCHANT_ORIGIN + NOTIFY_PATH, va_snap_base_url=MERCHANT_ORIGIN
    )
    # Ayolinx's key pair: the simulator signs callbacks with it, the merchant verifies them.
    ayolinx_key = generate_rsa_key()
    inbox = _Inbox()
    handler = CallbackHandler(
        client_key=account.client_key,
        client_secret=account.client_secret,
        ayolinx_public_keys=ayolinx_key.public_key(),
        on_event=inbox,
        routes=(NotifyRoute(path=NOTIFY_PATH), TokenRoute(), VaPaymentRoute()),
    )
    merchant = httpx.AsyncClient(transport=httpx.ASGITransport(app=CallbackASGIApp(handler)))
    sim = Simulator(
        account,
        ayolinx_key=ayolinx_key,
        http_client=merchant,
        seed=seed,
        time_scale=0.001,
    )
    async with (
        merchant,
        sim,
        AyolinxClient(
            sim.credentials(), base_url=sim.base_url, transport=sim.transport()
        ) as client,
    ):
        token_walk = _Walk(report, "Access token", out)

        async def token() -> str:
            issued = await client.get_access_token()
            return f"2007300, Bearer, valid {issued.lifetime:.0f} s"

        await token_walk.step("token", token)
        walks = (_qris, _ewallet, _virtual_account, _retail, _payment_link)
        for product, walk_product in zip(PRODUCTS, walks, strict=True):
            await walk_product(client, sim, inbox, _Walk(report, product, out))
    return report


def _reference(prefix: str) -> str:
    return f"DEMO-{prefix}-{secrets.token_hex(4).upper()}"


def _soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def _qris(api: AyolinxClient, sim: Simulator, inbox: _Inbox, walk: _Walk) -> None:
    from .._errors import ConfigurationError
    from ..simulator import parse_emv

    reference = _reference("QR")
    picture: list[str] = []

    async def create() -> str:
        qr = await api.qris.generate(partner_reference_no=reference, amount="25000.00")
        _expect(qr.qr_content is not None, "no qrContent")
        fields = parse_emv(qr.qr_content or "")  # raises on a bad CRC
        _expect(fields.get("54") == "25000", "QR amount does not match")
        try:
            picture.append(qr.to_terminal(border=1))
        except ConfigurationError:
            picture.append('  (install "ayolinx-async[qr]" to see the QR code here)\n')
        return f"{qr.response_code}, EMV QRIS of {len(qr.qr_content or '')} chars, CRC ok"

    async def payment() -> str:
        walk.show(picture[0])  # the QR under the create line (it runs only if create did)
        return await _pay(sim, reference)

    await walk.run(
        create,
        payment,
        lambda: _await_callback(sim, inbox, reference, reference),
        lambda: _paid(api.qris.query(original_partner_reference_no=reference), "query"),
    )


async def _pay(sim: Simulator, reference: str, channel: str | None = None) -> str:
    txn = await sim.pay(reference, channel=channel)
    via = f" via {txn.paid_channel}" if txn.paid_channel else ""
    return f"simulator marked {txn.reference_no} paid{via}"


async def _ewallet(api: AyolinxClient, sim: Simulator, inbox: _Inbox, walk: _Walk) -> None:
    reference = _reference("DANA")
    ayolinx_ref: list[str] = []

    async def create() -> str:
        payment = await api.ewallet.create_payment(
            partner_reference_no=reference,
            amount="30000.00",
            return_url=MERCHANT_ORIGIN + "/thanks",
            notification_url=MERCHANT_ORIGIN + NOTIFY_PATH,
            valid_up_to=_soon(3600),
        )
        _expect(bool(payment.web_redirect_url), "no webRedirectUrl")
        ayolinx_ref.append(payment.reference_no or reference)
        return f"{payment.response_code}, payer goes to {payment.web_redirect_url}"

    await walk.run(
        create,
        lambda: _pay(sim, ayolinx_ref[0]),
        lambda: _await_callback(sim, inbox, reference, reference),
        lambda: _paid(
            api.ewallet.inquire_status(original_partner_reference_no=reference), "status"
        ),
    )


async def _virtual_account(api: AyolinxClient, sim: Simulator, inbox: _Inbox, walk: _Walk) -> None:
    reference = _reference("VA")
    channel = "VIRTUAL_ACCOUNT_BNI"

    async def create() -> str:
        created = await api.virtual_accounts.create(
            channel=channel,
            trx_id=reference,
            customer_no=f"{secrets.randbelow(10**12):012d}",
            virtual_account_name="Demo Customer",
            total_amount="150000.00",
        )
        _expect(bool(created.virtual_account_no), "no virtualAccountNo")
        return f"{created.response_code}, pay to VA {created.virtual_account_no}"

    async def callback() -> str:
        detail = await _await_callback(sim, inbox, reference, reference)
        steps = [a.step for a in sim.deliveries(reference)[-1].attempts]
        _expect(steps[-1] == "payment", "the SNAP VA flow did not reach the payment call")
        return "merchant token issued, then " + detail

    await walk.run(
        create,
        lambda: _pay(sim, reference),
        callback,
        lambda: _paid(
            api.virtual_accounts.inquire(original_partner_reference_no=reference, channel=channel),
            "inquiry",
        ),
    )


async def _retail(api: AyolinxClient, sim: Simulator, inbox: _Inbox, walk: _Walk) -> None:
    reference = _reference("RT")
    channel = "RETAIL_ALFAMIDI"

    async def create() -> str:
        created = await api.retail.create(
            partner_reference_no=reference,
            amount="45000.00",
            channel=channel,
            valid_up_to=_soon(86400),
            customer_name="Demo Customer",
            customer_email="customer@example.com",
            notification_url=MERCHANT_ORIGIN + NOTIFY_PATH,
        )
        _expect(bool(created.va_number), "no payment code")
        return f"{created.response_code}, pay code {created.va_number} at the counter"

    await walk.run(
        create,
        lambda: _pay(sim, reference),
        lambda: _await_callback(sim, inbox, reference, reference),
        lambda: _paid(
            api.retail.query(original_partner_reference_no=reference, channel=channel), "query"
        ),
    )


async def _payment_link(api: AyolinxClient, sim: Simulator, inbox: _Inbox, walk: _Walk) -> None:
    from ..callbacks import PaymentLinkNotification
    from ..models._payment_link import PaymentLinkItem

    reference = _reference("PL")
    link: list[str] = []

    async def create() -> str:
        created = await api.payment_links.create(
            partner_reference_no=reference,
            items=[PaymentLinkItem(name="Kopi susu", price=20000, quantity=2)],
            customer_name="Demo Customer",
            customer_email="customer@example.com",
            payment_channels=["BNC_QRIS", "EMONEY_DANA_SNAP", "VIRTUAL_ACCOUNT_BNI"],
            expiry_time=_soon(7200),
            notification_url=MERCHANT_ORIGIN + NOTIFY_PATH,
        )
        _expect(bool(created.link_id), "no link id")
        link.append(created.link_id or "")
        return f"{created.response_code}, link {created.payment_link}"

    async def callback() -> str:
        detail = await _await_callback(sim, inbox, reference, link[0])
        event = inbox.events[reference]
        _expect(
            isinstance(event, PaymentLinkNotification) and event.plh == link[0],
            "callback does not carry additionalInfo.plh = the link id",
        )
        return detail + f", plh={link[0]}"

    async def status() -> str:
        # No status endpoint for links: read the simulator's back office over HTTP.
        import httpx

        transport = httpx.ASGITransport(app=sim)
        async with httpx.AsyncClient(transport=transport, base_url=sim.base_url) as admin:
            answer = await admin.get(f"/_simulator/transactions/{link[0]}")
        state = answer.json().get("latestTransactionStatus")
        _expect(answer.status_code == 200 and state == "00", "the link is not paid")
        return "simulator back office: latestTransactionStatus=00"

    await walk.run(create, lambda: _pay(sim, link[0], channel="BNC_QRIS"), callback, status)


def render_table(report: DemoReport) -> str:
    """The summary: one row per product, one column per step."""
    headers = ("Product", "Token", "Create", "Payment", "Callback", "Status", "Result")
    token = report.result("Access token", "token")
    token_cell = "ok" if token is not None and token.ok else "FAIL"
    rows: list[tuple[str, ...]] = []
    for product in PRODUCTS:
        cells = []
        for step in STEPS:
            found = report.result(product, step)
            cells.append("-" if found is None else ("ok" if found.ok else "FAIL"))
        product_ok = token_cell == "ok" and all(c == "ok" for c in cells)
        rows.append((product, token_cell, *cells, "PASS" if product_ok else "FAIL"))
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    passed = sum(1 for r in rows if r[-1] == "PASS")
    verdict = (
        f"All {len(rows)} products passed ({len(report.steps)} steps)."
        if report.ok
        else f"{passed} of {len(rows)} products passed; see the FAIL lines above."
    )
    return "\n".join([rule, line(headers), rule, *map(line, rows), rule, verdict]) + "\n"


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help="seed the simulator's references")
    parser.add_argument("--quiet", action="store_true", help="print only the summary table")
    parser.add_argument(
        "--lossy",
        action="store_true",
        help="drop 100%% of callbacks and let the payment tracker find every outcome by polling",
    )


def _run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.lossy:
        from .lossy import run_and_report

        return run_and_report(out)
    out.write("ayolinx demo: every product against the embedded Ayolinx simulator (offline)\n")
    started = time.perf_counter()
    report = anyio.run(lambda: run_demo(None if args.quiet else out, seed=args.seed))
    out.write("\n" + render_table(report))
    out.write(f"Finished in {time.perf_counter() - started:.2f} s.\n")
    out.flush()
    return 0 if report.ok else 1


COMMAND = Command(
    name="demo",
    help="walk every product end to end against the embedded simulator (offline)",
    description=__doc__,
    configure=_configure,
    run=_run,
)

"""A merchant against the in-process simulator, on a virtual clock: creates every product,
receives callbacks through a real ``CallbackHandler`` behind a door that drops a fraction of
deliveries, and feeds verified events to a ``PaymentTracker``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import httpx

from ayolinx_async import AyolinxClient
from ayolinx_async.callbacks import CallbackHandler
from ayolinx_async.integrations.asgi import CallbackASGIApp
from ayolinx_async.models._payment_link import PaymentLinkItem
from ayolinx_async.simulator import MerchantAccount, Simulator, generate_rsa_key
from ayolinx_async.tracking import PaymentOutcome, PaymentTracker, PollSchedule, TrackerStore

NOTIFY_URL = "http://merchant.test/ayolinx/notify"
START = 1_750_000_000.0
AMOUNT = Decimal("25000")
VA_CHANNEL = "VIRTUAL_ACCOUNT_BNI"
RETAIL_CHANNEL = "RETAIL_ALFAMIDI"
QUERYABLE = ("qris", "ewallet", "virtual_account", "retail")


@attrs.define
class VirtualClock:
    """Epoch seconds that move only when told to (compressed time)."""

    now: float = START

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


def dropped(reference_key: bytes, fraction: float) -> bool:
    """Whether the door drops this transaction's callbacks: a stable per-transaction draw, so a
    dropped payment loses every retry too (Ayolinx gave up on it)."""
    if fraction >= 1.0:
        return True
    draw = int.from_bytes(hashlib.sha256(reference_key).digest()[:4], "big") / 2**32
    return draw < fraction


class LossyDoor(httpx.AsyncBaseTransport):
    """The merchant's front door: drops ``fraction`` of transactions' callbacks (connect error)
    and hands the rest to the callback app."""

    def __init__(self, app: CallbackASGIApp, fraction: float) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.fraction = fraction
        self.dropped = 0
        self.passed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        key = _transaction_key(body) if request.url.path.endswith("/notify") else b""
        if key and dropped(key, self.fraction):
            self.dropped += 1
            raise httpx.ConnectError("dropped by the lossy door", request=request)
        self.passed += 1
        return await self._inner.handle_async_request(request)


def _transaction_key(body: bytes) -> bytes:
    import json

    try:
        data: dict[str, Any] = json.loads(body)
    except ValueError:
        return b""
    info = data.get("additionalInfo") or {}
    key = info.get("plh") or data.get("originalPartnerReferenceNo") or data.get("trxId") or ""
    return str(key).encode()


@attrs.define
class Shop:
    sim: Simulator
    client: AyolinxClient
    tracker: PaymentTracker
    clock: VirtualClock
    door: LossyDoor
    outcomes: list[PaymentOutcome]
    links: dict[str, str] = attrs.Factory(dict)  # our reference -> link id

    def expiry(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(self.clock.now + seconds, UTC)

    async def create(
        self,
        product: str,
        reference: str,
        amount: Decimal = AMOUNT,
        tracked: Decimal | None = None,
    ) -> None:
        """Create one payment of ``product`` and track it (with ``tracked`` as its amount when
        given, else ``amount``)."""
        client, channel, alias = self.client, None, None
        # The resources track what they create (track=); an explicit amount tracks by hand.
        auto = self.tracker if tracked is None else None
        if product == "qris":
            await client.qris.generate(partner_reference_no=reference, amount=amount, track=auto)
            channel = "BNC_QRIS"
        elif product == "ewallet":
            await client.ewallet.create_payment(
                partner_reference_no=reference,
                amount=amount,
                return_url="https://shop.example/thanks",
                valid_up_to=self.expiry(3600),
                track=auto,
            )
            channel = "EMONEY_DANA_SNAP"
        elif product == "virtual_account":
            await client.virtual_accounts.create(
                channel=VA_CHANNEL,
                trx_id=reference,
                customer_no=str(int(hashlib.sha256(reference.encode()).hexdigest()[:12], 16))[:8],
                virtual_account_name="Budi Santoso",
                total_amount=amount,
                track=auto,
            )
            channel = VA_CHANNEL
        elif product == "retail":
            await client.retail.create(
                partner_reference_no=reference,
                amount=amount,
                channel=RETAIL_CHANNEL,
                valid_up_to=self.expiry(86400),
                customer_name="Budi Santoso",
                customer_email="budi@example.com",
                track=auto,
            )
            channel = RETAIL_CHANNEL
        else:
            created = await client.payment_links.create(
                partner_reference_no=reference,
                items=[PaymentLinkItem(name="Kopi susu", price=amount, quantity=1)],
                customer_name="Budi Santoso",
                customer_email="budi@example.com",
                payment_channels=["BNC_QRIS"],
                expiry_time=self.expiry(3600),
                notification_url=NOTIFY_URL,
                track=auto,
            )
            alias = created.link_id
            self.links[reference] = alias or reference
        if tracked is not None:
            await self.tracker.track(reference, product=product, amount=tracked, channel=channel)

    def sim_reference(self, reference: str) -> str:
        return self.links.get(reference, reference)

    async def settle(self, until_idle: float) -> None:
        """Run the tracker on virtual time until nothing is pending or ``until_idle`` passed."""
        deadline = self.clock.now + until_idle
        while self.clock.now <= deadline:
            claimed = await self.tracker.poll_due()
            await self.tracker.deliver_due()
            if claimed:
                continue
            stats = await self.tracker.stats()
            if stats.pending == 0:
                return
            wait = (stats.next_poll_at or self.clock.now) - self.clock.now
            await self.clock.sleep(max(wait, 1.0 / self.tracker.rate_limit))


@asynccontextmanager
async def shop(
    store: TrackerStore | str,
    *,
    drop: float,
    rate_limit: float = 200.0,
    schedule: PollSchedule | None = None,
    grace: float = 600.0,
) -> AsyncIterator[Shop]:
    """A simulator, a client and a tracker on one virtual clock, callbacks through a lossy
    door into a real ``CallbackHandler`` whose listener is ``tracker.feed``."""
    clock = VirtualClock()
    account = MerchantAccount.generate(callback_url=NOTIFY_URL)
    outcomes: list[PaymentOutcome] = []
    box: dict[str, PaymentTracker] = {}

    class Forward:
        """The tracker is built after the handler (it needs the client); forward to it."""

        async def feed(self, event: Any) -> object:
            return await box["tracker"].feed(event)

    ayolinx_key = generate_rsa_key()
    handler = CallbackHandler.from_credentials(
        account.credentials(ayolinx_key.public_key()),
        tracker=Forward(),
        clock=clock,
        listener_timeout=None,
    )
    door = LossyDoor(CallbackASGIApp(handler), drop)
    async with httpx.AsyncClient(transport=door) as http:
        sim = Simulator(
            account,
            ayolinx_key=ayolinx_key,
            clock=clock,
            http_client=http,
            time_scale=0.0,
            seed=7,
        )
        async with sim.client() as client:
            tracker = PaymentTracker(
                client,
                store=store,
                schedule=schedule,
                rate_limit=rate_limit,
                burst=rate_limit,
                grace=grace,
                batch=100,
                concurrency=20,
                clock=clock,
                sleep=clock.sleep,
            )
            box["tracker"] = tracker

            async def record(outcome: PaymentOutcome) -> None:
                outcomes.append(outcome)

            tracker.on_outcome(record, name="record")
            await tracker.open()
            try:
                yield Shop(sim, client, tracker, clock, door, outcomes)
            finally:
                await tracker.close()

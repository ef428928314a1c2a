"""``Simulator``: the embedded Ayolinx, a raw ASGI application with a ledger and a courier.

Run it in process (``sim.transport()`` for ``AyolinxClient(transport=...)``, no sockets) or on a
real port (``ayolinx simulator``). Background work (callback retries, auto-pay) runs while the
simulator is entered (``async with sim:``) or under a server between lifespan startup and
shutdown; otherwise a callback is delivered (with its retries) before the triggering call returns.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from .._asgi_body import BodyTooLarge, ClientDisconnected
from .._config import Credentials
from .._endpoints import PaymentProduct
from .._errors import ConfigurationError
from ..signing._keys import PrivateKeySource, load_private_key
from ..transport._httpx import HttpxTransport
from ._accounts import MerchantAccount, generate_rsa_key, public_pem
from ._admin import handle_admin
from ._asgi import ASGIReceive, ASGISend, Scope, read_request, run_lifespan, send_json
from ._background import Background, only_exception
from ._delivery import DEFAULT_SCHEDULE, Courier, Delivery, Job, redelivery
from ._desk import Desk, ProductSettings, parse_admin_amount
from ._faults import FaultPlan, Faults, SimulatorFault
from ._ledger import Ledger, Transaction
from ._notify import callback_job
from ._routing import ApiRouter, RequestRecord

if TYPE_CHECKING:
    from .._client import AyolinxClient

__all__ = ["RequestRecord", "Simulator"]

logger = logging.getLogger("ayolinx_async.simulator")

DEFAULT_BASE_URL = "http://ayolinx.simulator"


class Simulator:
    """A faithful, strict fake of the Ayolinx OpenAPI (docs/architecture.md §10).

    ``merchant`` is the registered account (generated with a fresh key pair if omitted; more
    can be added with :meth:`add_merchant`). ``ayolinx_key`` signs callbacks (generated if
    omitted). ``clock`` (epoch seconds) drives timestamps, token expiry and the external-id
    day; ``sleep`` the retry waits. ``time_scale`` shrinks the callback retry schedule;
    ``auto_pay_after`` pays every new transaction after that many seconds, like the sandbox's
    Demo Mode. Randomness (references, faults) comes from ``random.Random(seed)``.
    ``request_log_size`` bounds :meth:`requests` (oldest records are dropped first).
    """

    def __init__(
        self,
        merchant: MerchantAccount | None = None,
        *,
        ayolinx_key: PrivateKeySource | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        token_lifetime: int = 900,
        timestamp_tolerance: float = 300.0,
        http_client: httpx.AsyncClient | None = None,
        retry_schedule: Sequence[float] = DEFAULT_SCHEDULE,
        time_scale: float = 1.0,
        delivery_timeout: float = 10.0,
        auto_pay_after: float | None = None,
        faults: Faults | None = None,
        seed: int | None = None,
        numeric_external_id: bool = False,
        products: ProductSettings | None = None,
        base_url: str = DEFAULT_BASE_URL,
        request_log_size: int = 100_000,
    ) -> None:
        if not isinstance(token_lifetime, int) or token_lifetime < 1:
            raise ConfigurationError("token_lifetime must be a whole number of seconds >= 1")
        if timestamp_tolerance <= 0:
            raise ConfigurationError("timestamp_tolerance must be positive")
        if auto_pay_after is not None and auto_pay_after < 0:
            raise ConfigurationError("auto_pay_after must not be negative")
        account = merchant if merchant is not None else MerchantAccount.generate()
        self._accounts: dict[str, MerchantAccount] = {account.client_key: account}
        self._default_key = account.client_key
        self._ayolinx_key: rsa.RSAPrivateKey = (
            load_private_key(ayolinx_key) if ayolinx_key is not None else generate_rsa_key()
        )
        self._clock = clock
        self._sleep = sleep
        self.token_lifetime = token_lifetime
        self.timestamp_tolerance = float(timestamp_tolerance)
        self.numeric_external_id = numeric_external_id
        self.auto_pay_after = auto_pay_after
        self.base_url = base_url.rstrip("/")
        self._http_client = http_client
        self._rng = random.Random(seed)
        self._ledger = Ledger()
        self._desk = Desk(self._ledger, self._rng, products or ProductSettings())
        try:
            self._courier = Courier(
                signing_key=self._ayolinx_key,
                clock=clock,
                sleep=sleep,
                schedule=retry_schedule,
                time_scale=time_scale,
                timeout=delivery_timeout,
            )
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self._fault_plan = FaultPlan(faults or Faults(), self._rng)
        self._router = ApiRouter(
            settings=self,
            accounts=self._accounts,
            desk=self._desk,
            fault_plan=self._fault_plan,
            clock=clock,
            on_created=self._created,
            log_size=request_log_size,
        )
        self._jobs: list[Job] = []
        self._background = Background()
        self._delivery_client: httpx.AsyncClient | None = None
        self._stack: AsyncExitStack | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "idle"
        count = len(self._ledger)
        return f"<Simulator {state} merchant={self._default_key!r} transactions={count}>"

    # -- accounts, keys, client wiring -------------------------------------------------------

    @property
    def merchant(self) -> MerchantAccount:
        """The default merchant account."""
        return self._accounts[self._default_key]

    @property
    def merchants(self) -> tuple[MerchantAccount, ...]:
        return tuple(self._accounts.values())

    def add_merchant(self, account: MerchantAccount) -> None:
        """Register another merchant (its own key, secret and callback settings)."""
        if account.client_key in self._accounts:
            raise ConfigurationError("a merchant with this client key is already registered")
        self._accounts[account.client_key] = account

    def account(self, client_key: str) -> MerchantAccount:
        try:
            return self._accounts[client_key]
        except KeyError:
            raise ConfigurationError("no merchant with this client key") from None

    @property
    def ayolinx_public_key(self) -> rsa.RSAPublicKey:
        """The key merchants verify callbacks with (the portal's "Ayolinx public key")."""
        return self._ayolinx_key.public_key()

    @property
    def ayolinx_public_pem(self) -> bytes:
        return public_pem(self._ayolinx_key.public_key())

    def credentials(self, client_key: str | None = None) -> Credentials:
        """``Credentials`` of a merchant the simulator holds the key of, with its callback key."""
        account = self.account(client_key or self._default_key)
        return account.credentials(self.ayolinx_public_key)

    def transport(self) -> HttpxTransport:
        """An in-process transport (``httpx.ASGITransport``; no sockets) for ``AyolinxClient``."""
        return HttpxTransport(transport=httpx.ASGITransport(app=self))

    def client(self, **kwargs: Any) -> AyolinxClient:
        """An ``AyolinxClient`` wired to this simulator in process, sharing its clock."""
        from .._client import AyolinxClient

        kwargs.setdefault("base_url", self.base_url)
        kwargs.setdefault("clock", self._clock)
        if "http_client" not in kwargs:
            kwargs.setdefault("transport", self.transport())
        credentials = kwargs.pop("credentials", None) or self.credentials()
        return AyolinxClient(credentials, **kwargs)

    # -- settings that may change while running ----------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._fault_plan.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._fault_plan.faults = value

    def inject_fault(
        self, kind: SimulatorFault | str, *, count: int = 1, path: str | None = None
    ) -> None:
        """Fail the next ``count`` API requests (to ``path`` if given) deterministically."""
        self._fault_plan.inject(kind, count=count, path=path)

    @property
    def fault_plan(self) -> FaultPlan:
        return self._fault_plan

    @property
    def time_scale(self) -> float:
        return self._courier.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value < 0:
            raise ConfigurationError("time_scale must not be negative")
        self._courier.time_scale = value

    @property
    def retry_schedule(self) -> tuple[float, ...]:
        return self._courier.schedule

    def revoke_tokens(self) -> int:
        """Invalidate every issued access token (clients must refresh)."""
        return self._router.tokens.revoke_all()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._background.running

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("this Simulator is already running")
        stack = AsyncExitStack()
        try:
            if self._http_client is None:
                self._delivery_client = await stack.enter_async_context(
                    httpx.AsyncClient(follow_redirects=False)
                )
            self._background.attach(await stack.enter_async_context(anyio.create_task_group()))
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        stack, self._stack = self._stack, None
        if stack is None:
            return None
        self._background.cancel()  # call drain() first to let retries and timers finish
        try:
            return await stack.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:
            # The task group wraps what left the ``async with`` body: hand back the original
            # exception, so a caller's ``except ConfigurationError`` works.
            single = only_exception(group)
            if single is None:
                raise
            raise single from single.__cause__
        finally:
            self._background.reset()
            self._delivery_client = None

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no callback delivery or auto-pay timer is outstanding."""
        await self._background.drain(timeout)

    # -- the ledger, seen from tests and the admin routes -------------------------------------

    def transactions(self) -> list[Transaction]:
        return list(self._ledger)

    def transaction(self, reference: str) -> Transaction:
        """By the simulator's reference (``originalReferenceNo``/link id) or a unique partner
        reference; raises :class:`~ayolinx_async.simulator.LookupFailed`."""
        return self._ledger.get(reference)

    def deliveries(self, reference: str | None = None) -> list[Delivery]:
        """All callback deliveries (optionally only one transaction's), oldest first."""
        wanted = None if reference is None else self._ledger.get(reference).reference_no
        return [j.delivery for j in self._jobs if wanted in (None, j.delivery.reference_no)]

    async def redeliver(self, delivery_id: str) -> Delivery:
        """Send a callback again now as one new delivery (same body, signed afresh, not dropped)."""
        job = redelivery(self._jobs, delivery_id, self._courier.next_id)
        await self._dispatch(job, manual=True)
        return job.delivery

    def requests(self) -> list[RequestRecord]:
        """Recent API requests and how they were answered (newest last)."""
        return self._router.requests()

    async def pay(
        self,
        reference: str,
        *,
        channel: str | None = None,
        amount: Decimal | str | int | None = None,
        via_paying: bool = False,
    ) -> Transaction:
        """Mark a transaction paid (``00``) and notify the merchant.

        ``channel`` picks the payment-link channel (default: the first offered); ``amount`` is
        required for open-amount VAs only; ``via_paying`` first moves through ``02`` (Paying)
        with its own callback, as a real payment can.
        """
        txn = self._ledger.get(reference)
        changes: dict[str, Any] = {}
        paid_channel: str | None = None
        if txn.product is PaymentProduct.PAYMENT_LINK:
            offered = list(txn.details.get("listPaymentChannel", [txn.channel]))
            paid_channel = channel or offered[0]
            if paid_channel not in offered:
                raise ValueError(f"channel {paid_channel!r} is not offered by this link")
            changes["paymentReferenceNo"] = self._desk.new_reference(self._clock())
        elif channel is not None and channel != txn.channel:
            raise ValueError("channel can only be chosen for payment links")
        paid_amount: Decimal | None = None
        if amount is not None:
            if txn.amount != 0:
                raise ValueError("amount can only be given for open-amount virtual accounts")
            paid_amount = parse_admin_amount(amount)
        elif txn.amount == 0:
            raise ValueError("an open-amount virtual account needs amount=")
        if via_paying and txn.status != "02":
            await self._move(txn.reference_no, "02")
        return await self._move(
            txn.reference_no,
            "00",
            paid_channel=paid_channel,
            amount=paid_amount,
            details=changes,
        )

    async def fail(self, reference: str) -> Transaction:
        """Mark a transaction failed (``06``) and notify the merchant."""
        return await self._move(self._ledger.get(reference).reference_no, "06")

    async def cancel(self, reference: str) -> Transaction:
        """Cancel a transaction (``05``) from the gateway side and notify the merchant."""
        return await self._move(self._ledger.get(reference).reference_no, "05")

    async def expire(self, reference: str) -> Transaction:
        """Let a transaction lapse: status ``05`` with description ``Expired`` (Ayolinx's list
        has no expiry code, docs/protocol.md §14)."""
        return await self._move(
            self._ledger.get(reference).reference_no, "05", description="Expired"
        )

    async def refund(self, reference: str) -> Transaction:
        """Refund a paid transaction (``00`` → ``04``) and notify the merchant."""
        return await self._move(self._ledger.get(reference).reference_no, "04")

    async def set_status(
        self, reference: str, status: str, *, description: str | None = None
    ) -> Transaction:
        """Any allowed move (e.g. ``03`` Pending), with a callback."""
        return await self._move(
            self._ledger.get(reference).reference_no, status, description=description
        )

    async def _move(
        self,
        reference_no: str,
        status: str,
        *,
        description: str | None = None,
        paid_channel: str | None = None,
        amount: Decimal | None = None,
        details: dict[str, Any] | None = None,
    ) -> Transaction:
        txn = self._ledger.move(
            reference_no,
            status,
            self._clock(),
            description=description,
            paid_channel=paid_channel,
            amount=amount,
            details=details,
        )
        account = self._accounts.get(txn.client_key)
        if account is not None:
            job = callback_job(
                txn,
                account,
                now=self._clock(),
                next_id=self._courier.next_id,
                digits=self._desk.digits,
            )
            if job is not None:
                await self._dispatch(job)
        return txn

    # -- callbacks --------------------------------------------------------------------------

    async def _dispatch(self, job: Job, *, manual: bool = False) -> None:
        if not manual and self._fault_plan.drops_callback():
            return  # the callback-loss knob: never delivered, as after Ayolinx's last retry
        self._jobs.append(job)
        client = self._http_client or self._delivery_client
        if client is not None and self._background.spawn(self._courier.run, job, client):
            return
        if self._http_client is not None:
            await self._courier.run(job, self._http_client)
            return
        async with httpx.AsyncClient(follow_redirects=False) as client:
            await self._courier.run(job, client)

    async def _auto_pay(self, reference_no: str, delay: float) -> None:
        await self._sleep(delay)
        txn = self._ledger.get(reference_no)
        if not txn.is_final and txn.amount != 0:
            await self.pay(reference_no)

    def _created(self, txn: Transaction) -> None:
        reference_no, delay = txn.reference_no, self.auto_pay_after
        if delay is not None and not self._background.spawn(self._auto_pay, reference_no, delay):
            logger.warning("auto-pay needs a running simulator (async with sim / a server)")

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await run_lifespan(self.__aenter__, self.__aexit__, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})
            return
        if kind != "http":
            return
        try:
            request = await read_request(scope, receive)
        except (BodyTooLarge, ClientDisconnected) as exc:
            if isinstance(exc, BodyTooLarge):  # a client that left mid-body gets no answer
                await send_json(send, 413, {"error": "request body too large"})
            return
        if request.path == "/_simulator" or request.path.startswith("/_simulator/"):
            await handle_admin(self, request, send)
            return
        await self._router.answer(request, send)

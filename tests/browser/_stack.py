"""The servers behind the browser tests: the simulator and the example FastAPI shop, each under
uvicorn on a free 127.0.0.1 port, in one asyncio loop on a background thread (Selenium blocks,
so the servers cannot share the test's thread). The SDK client lives in that loop too;
:meth:`Stack.run` hands it a coroutine and waits for the answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any, TypeVar

import attrs

from ayolinx_async import AyolinxClient, RetryPolicy
from ayolinx_async.callbacks import DEFAULT_NOTIFY_PATH
from ayolinx_async.simulator import Delivery, MerchantAccount, Simulator, generate_rsa_key
from tests._servers import load_example, serve_uvicorn

T = TypeVar("T")


class Stack:
    """A running simulator, shop and client; ``sim_url``/``shop_url`` are their base URLs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._exit = AsyncExitStack()
        self.sim: Simulator
        self.client: AyolinxClient
        self.shop: Any
        self.sim_url = ""
        self.shop_url = ""

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Stack]:
        stack = cls()
        stack._thread.start()
        try:
            stack.run(stack._start())
            yield stack
        finally:
            try:
                stack.run(stack._exit.aclose())
            finally:
                stack.loop.call_soon_threadsafe(stack.loop.stop)
                stack._thread.join(timeout=10)
                stack.loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coroutine`` in the servers' loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T]) -> T:
        """Call ``function`` in the servers' loop (reads the simulator between its steps)."""

        async def inside() -> T:
            return function()

        return self.run(inside())

    def deliveries(self, reference: str) -> list[Delivery]:
        return self.call(lambda: self.sim.deliveries(reference))

    def order(self, order: str) -> dict[str, Any] | None:
        """What the shop's order book says about ``order`` (after a verified callback)."""
        found: dict[str, Any] | None = self.call(lambda: self.shop.state.orders.state.get(order))
        return found

    def use(self, work: Callable[[AyolinxClient, Simulator], Awaitable[T]]) -> T:
        """Run one SDK step, e.g. ``stack.use(lambda c, s: _shop.qris(c, s, "ORD-1"))``."""

        async def step() -> T:
            return await work(self.client, self.sim)

        return self.run(step())

    async def _start(self) -> None:
        ayolinx_key = generate_rsa_key()
        draft = MerchantAccount.generate()
        shop_module = load_example("fastapi_app")
        self.shop = shop_module.create_app(
            client_key=draft.client_key,
            client_secret=draft.client_secret,
            ayolinx_public_key=ayolinx_key.public_key(),
        )
        self.shop_url = await self._exit.enter_async_context(serve_uvicorn(self.shop))
        account = attrs.evolve(
            draft,
            callback_url=self.shop_url + DEFAULT_NOTIFY_PATH,
            va_snap_base_url=self.shop_url,
        )
        self.sim = Simulator(account, ayolinx_key=ayolinx_key, delivery_timeout=5.0)
        self.sim_url = await self._exit.enter_async_context(serve_uvicorn(self.sim, lifespan="on"))
        self.client = await self._exit.enter_async_context(
            AyolinxClient(
                self.sim.credentials(),
                base_url=self.sim_url,
                retry=RetryPolicy(max_retries=2, initial=0.05, maximum=0.1),
            )
        )

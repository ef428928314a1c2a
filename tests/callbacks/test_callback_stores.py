"""Memory stores: TTLs by the injected clock, atomic claim, owner-checked release."""

from __future__ import annotations

import pytest

from ayolinx_async.callbacks import (
    DEDUPE_DONE,
    DedupeStore,
    IssuedTokenStore,
    MemoryDedupeStore,
    MemoryIssuedTokenStore,
)

from ._helpers import FakeClock

pytestmark = pytest.mark.anyio


async def test_token_store_expires_by_clock() -> None:
    clock = FakeClock(now=1000.0)
    store = MemoryIssuedTokenStore(clock=clock)
    assert isinstance(store, IssuedTokenStore)
    await store.set("k", "v", 10)
    assert await store.get("k") == "v"
    clock.advance(9.9)
    assert await store.get("k") == "v"
    clock.advance(0.1)
    assert await store.get("k") is None
    await store.set("k2", "v", 10)
    await store.delete("k2")
    assert await store.get("k2") is None
    with pytest.raises(ValueError, match="ttl"):
        await store.set("k3", "v", 0)


async def test_expired_entries_are_swept() -> None:
    clock = FakeClock(now=1000.0)
    store = MemoryIssuedTokenStore(clock=clock)
    for n in range(100):
        await store.set(f"k{n}", "v", 5)
    clock.advance(120)
    await store.set("fresh", "v", 5)
    assert len(store._entries._data) == 1  # swept, not merely hidden


async def test_dedupe_claim_complete_release() -> None:
    clock = FakeClock(now=1000.0)
    store = MemoryDedupeStore(clock=clock)
    assert isinstance(store, DedupeStore)
    assert await store.claim("a", "me", 30)
    assert not await store.claim("a", "you", 30)
    assert await store.get("a") == "me"
    await store.release("a", "you")  # not the owner: no effect
    assert await store.get("a") == "me"
    await store.release("a", "me")
    assert await store.get("a") is None
    assert await store.claim("a", "you", 30)
    await store.complete("a", 3600)
    assert await store.get("a") == DEDUPE_DONE
    await store.release("a", "you")  # done keys are never released
    assert await store.get("a") == DEDUPE_DONE
    assert not await store.claim("a", "third", 30)
    clock.advance(3600)
    assert await store.claim("a", "third", 30)


async def test_claim_lease_expires() -> None:
    clock = FakeClock(now=1000.0)
    store = MemoryDedupeStore(clock=clock)
    assert await store.claim("a", "crashed", 30)
    clock.advance(30)
    assert await store.claim("a", "next", 30)

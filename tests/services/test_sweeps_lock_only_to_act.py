"""The time-driven sweeps run every 30 seconds on every replica. With nothing to do they only
read: they never take the routing lock that every create and decision needs (nor, on SQLite,
the write lock), so a sweep never stalls the people waiting for an answer. With work to do they
lock, read again, and act once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.domain.outbox import Kind
from bot.services.expire_request import expire_undecided
from bot.services.review_timers import sweep_reviews
from tests.services.conftest import World

REMIND, ESCALATE, TTL = timedelta(hours=4), timedelta(hours=24), timedelta(days=7)
HANG = 20  # seconds: far beyond any sweep that does not wait for the holder


@asynccontextmanager
async def a_create_in_flight(world: World) -> AsyncIterator[None]:
    """A write transaction holding what a create holds while it routes, until the block ends."""
    held, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with world.store.write() as tx:
            await tx.requests.lock_routing()
            await tx.facts.put("in_flight", "yes")
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait_for(held.wait(), HANG)
    try:
        yield
    finally:
        release.set()
        await holder


async def test_a_sweep_with_nothing_due_does_not_wait_for_writers(world: World) -> None:
    await world.ask("U0JUNIOR1")  # pending, but nothing is due yet
    async with a_create_in_flight(world):
        swept = await asyncio.wait_for(sweep_reviews(world.deps, REMIND, ESCALATE), HANG)
        expired = await asyncio.wait_for(expire_undecided(world.deps, TTL), HANG)
    assert (swept.reminded, swept.escalated, swept.unassigned, swept.back) == (0, 0, 0, 0)
    assert expired == 0


async def test_a_sweep_with_work_waits_its_turn_and_acts_once(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    world.clock.advance(REMIND)
    async with a_create_in_flight(world):
        sweep = asyncio.create_task(sweep_reviews(world.deps, REMIND, ESCALATE))
        await asyncio.sleep(0.3)
        assert not sweep.done()  # it locks to act, so it waits for the writer
    swept = await asyncio.wait_for(sweep, HANG)
    assert swept.reminded == 1
    assert await world.queued(Kind.REMINDER_DM.value) == [(request_id, "U0SENIOR1")]
    assert (await sweep_reviews(world.deps, REMIND, ESCALATE)).reminded == 0

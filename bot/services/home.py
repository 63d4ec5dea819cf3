"""What someone's App Home shows: their review queue, their requests, the policy countdown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.outbox import Notice
from bot.domain.policy import PolicyWindow
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import window_in
from bot.services.queries import Listing
from bot.store.unit_of_work import Repos, Tx

QUEUE_SHOWN = 15
MINE_SHOWN = 10


@dataclass(frozen=True)
class Home:
    user: str
    queue: Listing
    mine: Listing
    window: PolicyWindow
    now: datetime


async def home_for(deps: Deps, user: str) -> Home:
    async with deps.store.read() as r:
        return Home(
            user=user,
            queue=Listing(await r.requests.queue_of(user, QUEUE_SHOWN), await r.requests.count_queue_of(user)),
            mine=Listing(await r.requests.asked_by(user, MINE_SHOWN), await r.requests.count_asked_by(user)),
            window=await window_in(r),
            now=deps.clock.now(),
        )


async def refresh_homes(tx: Repos, users: Iterable[str]) -> list[Notice]:
    """App Home refreshes for those of ``users`` who ever opened their App Home: nobody else has
    a view to republish, so nothing is queued for them."""
    return [notices.home_refresh(user) for user in sorted(await tx.homes.among(sorted(set(users))))]


async def opened_home(deps: Deps, user: str) -> None:
    async def opened(tx: Tx) -> None:
        await tx.homes.opened(user, deps.clock.now())

    await deps.store.transact(opened)


async def has_home(deps: Deps, user: str) -> bool:
    async with deps.store.read() as r:
        return await r.homes.has_home(user)

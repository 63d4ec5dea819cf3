"""What someone's App Home shows: their review queue, their requests, the policy countdown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import ChangeRequest
from bot.domain.outbox import Notice
from bot.domain.policy import PolicyWindow
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import window_in
from bot.services.queries import Listing
from bot.store.unit_of_work import Repos, Tx

QUEUE_SHOWN = 15
MINE_SHOWN = 10
DECIDED_SHOWN = 5
DECIDED_FOR = timedelta(hours=24)  # how long a decision stays on the reviewer's Home


@dataclass(frozen=True)
class Decided:
    """A request the reviewer approved or denied lately, with their vote."""

    request: ChangeRequest
    approved: bool
    reason: str


@dataclass(frozen=True)
class Home:
    user: str
    queue: Listing
    mine: Listing
    window: PolicyWindow
    now: datetime
    decided: list[Decided] = field(default_factory=list)  # newest first


async def home_for(deps: Deps, user: str) -> Home:
    now = deps.clock.now()
    async with deps.store.read() as r:
        decided = await r.requests.decided_by(user, now - DECIDED_FOR, DECIDED_SHOWN)
        return Home(
            user=user,
            queue=Listing(await r.requests.queue_of(user, QUEUE_SHOWN), await r.requests.count_queue_of(user)),
            mine=Listing(await r.requests.asked_by(user, MINE_SHOWN), await r.requests.count_asked_by(user)),
            window=await window_in(r),
            now=now,
            decided=[Decided(req, vote == "approve", reason) for req, vote, reason in decided],
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

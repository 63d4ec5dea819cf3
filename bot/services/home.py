"""What someone's App Home shows: their review queue, their requests, the policy countdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.policy import PolicyWindow
from bot.services.deps import Deps
from bot.services.policy_state import window
from bot.services.queries import Listing
from bot.store import requests as store
from bot.store.db import to_db

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
    queue_where = "status = 'pending' AND id IN (SELECT request_id FROM assignments WHERE reviewer = ? AND active = 1)"
    mine_where = "requester = ?"
    return Home(
        user=user,
        queue=Listing(
            await store.list_where(deps.db, queue_where, (user,), QUEUE_SHOWN, order="created_at, id"),
            await store.count_where(deps.db, queue_where, (user,)),
        ),
        mine=Listing(
            await store.list_where(deps.db, mine_where, (user,), MINE_SHOWN, order="id DESC"),
            await store.count_where(deps.db, mine_where, (user,)),
        ),
        window=await window(deps.db),
        now=deps.clock.now(),
    )


async def opened_home(deps: Deps, user: str) -> None:
    async with deps.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO home_viewers (user, opened_at) VALUES (?, ?)"
            " ON CONFLICT (user) DO UPDATE SET opened_at = excluded.opened_at",
            (user, to_db(deps.clock.now())),
        )


async def has_home(deps: Deps, user: str) -> bool:
    return await deps.db.fetchone("SELECT 1 FROM home_viewers WHERE user = ?", (user,)) is not None

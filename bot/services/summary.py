"""The pending-changes summary: posted on a schedule, on demand, and caught up after downtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.errors import NotOnRoster, SignoffError, TooSoon
from bot.domain.models import ChangeRequest
from bot.domain.policy import PolicyWindow
from bot.domain.schedule import fire_times
from bot.services import guard, notices
from bot.services.deps import Deps
from bot.services.policy_state import window
from bot.store import meta, outbox
from bot.store import requests as store
from bot.store.db import from_db, to_db

SHOWN = 25  # items listed; the count is always the true total
LAST_SLOT = "summary_last_slot"
ASKED_AT = "summary_asked_at"  # the last on-demand summary, for the once-a-minute limit
ON_DEMAND_EVERY = timedelta(minutes=1)
LAST_SUMMARY_KEY = "summary:last"  # where the last summary landed, to link to it


@dataclass(frozen=True)
class Summary:
    total: int
    oldest: list[ChangeRequest]
    overdue: frozenset[int]
    window: PolicyWindow
    now: datetime


async def pending_summary(deps: Deps, overdue_after: timedelta, shown: int = SHOWN) -> Summary:
    now = deps.clock.now()
    rows = await store.list_where(deps.db, "status = 'pending'", (), shown, order="created_at, id")
    total = await store.count_where(deps.db, "status = 'pending'", ())
    overdue = frozenset(r.id for r in rows if now - r.created_at >= overdue_after)
    return Summary(total, rows, overdue, await window(deps.db), now)


async def post_summary(deps: Deps, actor: str, delivery: str | None = None) -> None:
    """On demand: only people on the roster, and once a minute, so nobody can flood the channel."""
    now = deps.clock.now()
    roster = deps.roster()
    refusal: SignoffError | None = None
    async with deps.db.transaction(delivery) as conn:
        if roster.get(actor) is None and not roster.is_admin(actor):
            refusal = NotOnRoster("Only people on signoff's roster can post the summary.")
            await guard.record_refusal(conn, now, actor, None, "summary", refusal)
        else:
            asked = await meta.get_in(conn, ASKED_AT)
            if asked is not None and now - from_db(asked) < ON_DEMAND_EVERY:
                refusal = TooSoon(
                    f"A summary was asked for less than a minute ago; it is in <#{deps.summary_channel}>.",
                    await outbox.where(conn, LAST_SUMMARY_KEY),
                )
            else:
                await meta.put(conn, ASKED_AT, to_db(now))
                await outbox.enqueue(conn, now, notices.summary_post(deps.summary_channel))
    if refusal is not None:
        raise refusal
    deps.committed(None)


async def sweep_summary(deps: Deps, cron: dict[str, str], tz: str) -> bool:
    """Post once if a scheduled slot passed since the last one handled (several missed slots: once)."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        last = await meta.get_in(conn, LAST_SLOT)
        if last is None:  # first start: the schedule begins now
            await meta.put(conn, LAST_SLOT, to_db(now))
            return False
        missed = fire_times(cron, tz, from_db(last), now)
        if not missed:
            return False
        await meta.put(conn, LAST_SLOT, to_db(missed[-1]))
        await outbox.enqueue(conn, now, notices.summary_post(deps.summary_channel))
    deps.committed(None)
    return True

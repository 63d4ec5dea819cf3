"""The pending-changes summary: posted on a schedule, on demand, and caught up after downtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import NotOnRoster, TooSoon
from bot.domain.models import ChangeRequest
from bot.domain.policy import PolicyWindow
from bot.domain.schedule import fire_times
from bot.domain.timestamps import from_utc_text, utc_text
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import window_in
from bot.store.unit_of_work import Tx

SHOWN = 25  # items listed; the count is always the true total
LAST_SLOT = "summary_last_slot"
ASKED_AT = "summary_asked_at"  # the last on-demand summary, for the once-a-minute limit
ON_DEMAND_EVERY = timedelta(minutes=1)
EXPIRY_WARNING = timedelta(days=1)  # a request this close to REQUEST_TTL is flagged
LAST_SUMMARY_KEY = "summary:last"  # where the last summary landed, to link to it


@dataclass(frozen=True)
class Summary:
    total: int
    oldest: list[ChangeRequest]
    overdue: frozenset[int]
    window: PolicyWindow
    now: datetime
    break_glass: list[ChangeRequest] = field(default_factory=list)  # not yet reviewed after the fact
    break_glass_total: int = 0
    expires_at: dict[int, datetime] = field(default_factory=dict)  # shown requests within a day of REQUEST_TTL


async def pending_summary(deps: Deps, overdue_after: timedelta, shown: int = SHOWN) -> Summary:
    now = deps.clock.now()
    async with deps.store.read() as r:
        rows = await r.requests.pending(shown)
        total = await r.requests.count_pending()
        policy = await window_in(r)
        unreviewed = await r.requests.awaiting_review_after_the_fact(shown)
        unreviewed_total = await r.requests.count_awaiting_review_after_the_fact()
    overdue = frozenset(req.id for req in rows if now - req.created_at >= overdue_after)
    expiring = {
        req.id: req.created_at + deps.request_ttl
        for req in rows
        if req.created_at + deps.request_ttl - now <= EXPIRY_WARNING
    }
    return Summary(total, rows, overdue, policy, now, unreviewed, unreviewed_total, expiring)


async def post_summary(deps: Deps, actor: str, receipt: str | None = None) -> None:
    """On demand: only people on the roster, and once a minute, so nobody can flood the channel."""
    now = deps.clock.now()
    roster = deps.roster()

    async def ask(tx: Tx) -> None:
        if roster.get(actor) is None and not roster.is_admin(actor):
            refusal = NotOnRoster("Only people on signoff's roster can post the summary.")
            await tx.refuse(refusal, actor, None, "summary", now)
        await tx.facts.lock_job(ASKED_AT)
        asked = await tx.facts.get(ASKED_AT)
        if asked is not None and now - from_utc_text(asked) < ON_DEMAND_EVERY:
            raise TooSoon(
                f"A summary was asked for less than a minute ago; it is in <#{deps.summary_channel}>.",
                await tx.messages.where(LAST_SUMMARY_KEY),
            )
        await tx.facts.put(ASKED_AT, utc_text(now))
        await tx.outbox.enqueue(now, notices.summary_post(deps.summary_channel))

    await deps.store.transact(ask, receipt)


async def sweep_summary(deps: Deps, cron: dict[str, str], tz: str) -> bool:
    """Post once if a scheduled slot passed since the last one handled (several missed slots: once)."""
    now = deps.clock.now()

    async def sweep(tx: Tx) -> bool:
        await tx.facts.lock_job(LAST_SLOT)  # replicas take turns: one summary per slot
        last = await tx.facts.get(LAST_SLOT)
        if last is None:  # first start: the schedule begins now
            await tx.facts.put(LAST_SLOT, utc_text(now))
            return False
        missed = fire_times(cron, tz, from_utc_text(last), now)
        if not missed:
            return False
        await tx.facts.put(LAST_SLOT, utc_text(missed[-1]))
        await tx.outbox.enqueue(now, notices.summary_post(deps.summary_channel))
        return True

    return await deps.store.transact(sweep)

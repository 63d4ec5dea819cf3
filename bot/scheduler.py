"""Fires the time-driven sweeps. Deadlines live in the database; each job is an idempotent sweep.

Jobs use coalesce=True, max_instances=1 and misfire_grace_time=None, and are rebuilt at
start. ``tick()`` runs every sweep once: at start (to catch up on what was missed while
the bot was down) and from tests that move the clock. The outbox has its own worker
(bot/slack/outbox.py), woken by every commit and polling as a fallback, so messages do not
wait for a job interval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.schedule import cron_fields
from bot.services import policy_state
from bot.services.anchor import sweep_anchor
from bot.services.deps import Deps
from bot.services.policy_lifecycle import sweep_policy
from bot.services.reconcile import reconcile
from bot.services.review_timers import sweep_reviews
from bot.services.reviewer_load import fold_reviewer_load
from bot.services.summary import sweep_summary

log = logging.getLogger(__name__)
FOLD_SECONDS = 2  # the reviewer-load ledger stays a few seconds long
MAINTENANCE_SECONDS = 3600
JOB_DEFAULTS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass
class Scheduler:
    deps: Deps
    summary_cron: str
    timezone: str
    reminder_after: timedelta
    escalate_after: timedelta
    sweep_every: timedelta = timedelta(seconds=30)  # SWEEP_EVERY
    _aps: AsyncIOScheduler | None = field(default=None, init=False)

    async def tick(self) -> None:
        """Run every sweep once, in a fixed order."""
        await self.policy()
        await self.reviews()
        await self.summary()
        await self.anchor()
        await self.fold()

    async def fold(self) -> None:
        await fold_reviewer_load(self.deps.store)

    async def anchor(self) -> None:
        await sweep_anchor(self.deps, ZoneInfo(self.timezone))

    async def policy(self) -> None:
        result = await sweep_policy(self.deps)
        if result.ended:
            log.info("the sign-off policy ended; %d pending request(s) expired", result.expired)

    async def reviews(self) -> None:
        await reconcile(self.deps)
        result = await sweep_reviews(self.deps, self.reminder_after, self.escalate_after)
        if result.reminded or result.escalated or result.unassigned:
            log.info(
                "reviews: %d reminded, %d escalated, %d unassigned",
                result.reminded,
                result.escalated,
                result.unassigned,
            )

    async def summary(self) -> None:
        await sweep_summary(self.deps, cron_fields(self.summary_cron), self.timezone)

    async def maintenance(self) -> None:
        async with self.deps.store.write(durable=False) as tx:
            await tx.deliveries.prune(self.deps.clock.now())
        await self.deps.store.maintain()

    async def start(self) -> None:
        await self.tick()  # catch up on anything missed while the bot was down
        aps = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone=self.timezone)
        aps.add_job(self.policy, IntervalTrigger(seconds=self.sweep_every.total_seconds()), id="policy")
        aps.add_job(self.reviews, IntervalTrigger(seconds=self.sweep_every.total_seconds()), id="reviews")
        aps.add_job(self.summary, CronTrigger(**cron_fields(self.summary_cron), timezone=self.timezone), id="summary")
        aps.add_job(self.anchor, IntervalTrigger(seconds=self.sweep_every.total_seconds()), id="anchor")
        aps.add_job(self.maintenance, IntervalTrigger(seconds=MAINTENANCE_SECONDS), id="maintenance")
        aps.add_job(self.fold, IntervalTrigger(seconds=FOLD_SECONDS), id="fold")
        aps.start()
        self._aps = aps
        await self._schedule_end()

    async def _schedule_end(self) -> None:
        """A job at the policy's exact end, so the end is announced on time, not at the next sweep."""
        if self._aps is None:
            return
        end = (await policy_state.window(self.deps.store)).end
        if end > self.deps.clock.now():
            self._aps.add_job(self.policy, DateTrigger(run_date=end), id="policy_end", replace_existing=True)

    def policy_changed(self) -> None:
        if self._aps is not None:
            self._aps.add_job(self._schedule_end, DateTrigger(), id="reschedule_end", replace_existing=True)

    def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

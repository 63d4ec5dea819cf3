"""Fires the time-driven sweeps. Deadlines live in the database; each job is an idempotent sweep.

Jobs use coalesce=True, max_instances=1 and misfire_grace_time=None, and are rebuilt at
start. ``tick()`` runs every sweep once: at start (to catch up on what was missed while
the bot was down) and from tests that move the clock. The outbox has its own worker
(bot/slack/outbox_worker.py), woken by every commit and polling as a fallback, so messages do not
wait for a job interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.errors import StorageFailure
from bot.domain.schedule import cron_fields
from bot.domain.words import count
from bot.services import policy_state
from bot.services.anchor import sweep_anchor
from bot.services.deps import Deps
from bot.services.expire_request import expire_undecided
from bot.services.housekeeping import prune_receipts
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
    _running: set[asyncio.Task[Any]] = field(default_factory=set, init=False)

    def _job(self, sweep: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """A sweep as a job: tracked (stopping cancels and awaits it), and never a traceback for a
        database that is away (the next run tries again) or for stopping in the middle."""
        name = sweep.__name__

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await sweep()
            except asyncio.CancelledError:
                log.info("the %s sweep stopped with the process; the next start resumes it", name)
            except StorageFailure as err:
                log.warning("the %s sweep did not run: %s; it runs again at its next time", name, err.detail)
            except Exception:
                log.exception("the %s sweep failed; it runs again at its next time", name)
            finally:
                self._running.discard(task)

        return run

    async def tick(self) -> None:
        """Run every sweep once, in a fixed order."""
        await self.policy()
        await self.reviews()
        await self.summary()
        await self.anchor()
        await self.fold()

    async def catch_up(self) -> None:
        """Every sweep once and the housekeeping: what a start does first. Each part stands on its
        own: one that fails (a statement cut short on a large database, say) is logged and the
        others still run, so the housekeeping is not left to its next hourly turn."""
        for part in (self.policy, self.reviews, self.summary, self.anchor, self.fold, self.maintenance):
            try:
                await part()
            except StorageFailure as err:
                log.warning(
                    "the %s sweep did not run at start: %s; it runs again at its next time", part.__name__, err.detail
                )
            except Exception:
                log.exception("the %s sweep failed at start; it runs again at its next time", part.__name__)

    async def fold(self) -> None:
        await fold_reviewer_load(self.deps.store)

    async def anchor(self) -> None:
        await sweep_anchor(self.deps, ZoneInfo(self.timezone))

    async def policy(self) -> None:
        result = await sweep_policy(self.deps)
        if result.ended:
            log.info("the sign-off policy ended; %s expired", count(result.expired, "pending request"))

    async def reviews(self) -> None:
        await reconcile(self.deps)
        expired = await expire_undecided(self.deps, self.deps.request_ttl)
        if expired:
            log.info("%s expired: nobody decided within REQUEST_TTL", count(expired, "request"))
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
        await prune_receipts(self.deps)
        await self.deps.store.maintain()

    async def start(self) -> None:
        """Schedule every sweep, and run them all once now, in the background, to catch up on what
        was missed while the bot was down (an end with thousands of requests to expire must not
        keep the bot from answering)."""
        aps = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone=self.timezone)
        aps.add_job(self._job(self.catch_up), DateTrigger(), id="catch_up")
        every = IntervalTrigger(seconds=self.sweep_every.total_seconds())
        aps.add_job(self._job(self.policy), every, id="policy")
        aps.add_job(self._job(self.reviews), every, id="reviews")
        summary_at = CronTrigger(**cron_fields(self.summary_cron), timezone=self.timezone)
        aps.add_job(self._job(self.summary), summary_at, id="summary")
        aps.add_job(self._job(self.anchor), every, id="anchor")
        aps.add_job(self._job(self.maintenance), IntervalTrigger(seconds=MAINTENANCE_SECONDS), id="maintenance")
        aps.add_job(self._job(self.fold), IntervalTrigger(seconds=FOLD_SECONDS), id="fold")
        aps.start()
        self._aps = aps
        await self._schedule_end()

    async def _schedule_end(self) -> None:
        """A job at the policy's exact end, so the end is announced on time, not at the next sweep;
        an end that has come (an admin ended it) runs now."""
        if self._aps is None:
            return
        end = (await policy_state.window(self.deps.store)).end
        when = DateTrigger(run_date=end) if end > self.deps.clock.now() else DateTrigger()
        self._aps.add_job(self._job(self.policy), when, id="policy_end", replace_existing=True)

    def policy_changed(self) -> None:
        if self._aps is not None:
            reschedule = self._job(self._schedule_end)
            self._aps.add_job(reschedule, DateTrigger(), id="reschedule_end", replace_existing=True)

    async def idle(self) -> None:
        """Wait until every job due by now has run (a policy just ended runs its end at once)."""
        while True:
            aps = self._aps
            now = datetime.now(UTC)
            due = aps is not None and any(
                j.next_run_time is not None and j.next_run_time <= now for j in aps.get_jobs()
            )
            if not due and not self._running:
                return
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """No new runs; a sweep in the middle of a batch is cancelled (its transaction rolls back)."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

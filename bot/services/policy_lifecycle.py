"""The policy's life: warnings before the end, the end itself (once), and admin changes.

At the end every pending request expires, in batches of ``BATCH``, each batch one transaction
(so however many are pending, no transaction holds the event loop or the routing lock for
long), and then the end is announced, exactly once per end time, in a transaction of its own
that checks nothing is left pending. Each transaction takes the policy's job lock, so replicas
take turns; the count of requests expired so far is kept with each batch, so an end that a crash
interrupts resumes where it stopped, at the next sweep of any replica, and the announcement
gives the full count. A bot that was down at the end does it at its next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.domain.audit import AuditEntry
from bot.domain.errors import Conflict, NotAdmin
from bot.domain.models import FinalReason
from bot.domain.numbers import whole_number
from bot.domain.policy import POLICY_ENDED, PolicyWindow
from bot.domain.timestamps import utc_text
from bot.services import notices
from bot.services.deps import Deps
from bot.services.expire_request import expire
from bot.services.policy_state import save_overrides, timeline_in, window, window_in
from bot.store.unit_of_work import Tx

WARN_DAYS = (14, 7, 1)
ANNOUNCED = "policy_end_announced"  # the end time that was announced
WARNED = "policy_warned"  # "<end>|<days>": the last warning sent for that end
ENDED_BY = "policy_ended_by"  # the admin who ended it early
PROGRESS = "policy_end_progress"  # "<end>|<requests expired so far>" while an end is under way
BATCH = 50  # requests expired per transaction (about 10 ms of the loop on SQLite)
MAX_EXTENSION_DAYS = 3650
JOB = "policy"


@dataclass(frozen=True)
class PolicySweep:
    ended: bool = False
    expired: int = 0
    warned_days: int | None = None


async def sweep_policy(deps: Deps) -> PolicySweep:
    now = deps.clock.now()
    if now < (await window(deps.store)).end:

        async def warn(tx: Tx) -> PolicySweep:
            await tx.facts.lock_job(JOB)
            current = await window_in(tx)
            return await _warn(tx, deps, current, now) if now < current.end else PolicySweep()

        return await deps.store.transact(warn)
    while True:
        step = await deps.store.transact(partial(_end_step, deps=deps, now=now))
        if step is None or step.ended:
            return step or PolicySweep()


async def _end_step(tx: Tx, deps: Deps, now: datetime) -> PolicySweep | None:
    """One transaction of the end: expire a batch, or (nothing left) announce. None: nothing to do."""
    await tx.facts.lock_job(JOB)
    current = await window_in(tx)
    end = utc_text(current.end)
    if now < current.end or await tx.facts.get(ANNOUNCED) == end:
        return None  # extended meanwhile, or announced (by this replica or another)
    await tx.requests.lock_all()
    progress_end, _, counted = (await tx.facts.get(PROGRESS) or "").partition("|")
    so_far = int(counted) if progress_end == end and counted.isdigit() else 0
    batch = await tx.requests.pending_ids(BATCH)
    if batch:
        for request_id in batch:
            await expire(tx, request_id, now, FinalReason.POLICY_ENDED, POLICY_ENDED)
        await tx.facts.put(PROGRESS, f"{end}|{so_far + len(batch)}")
        return PolicySweep(ended=False, expired=so_far + len(batch))
    ended_by = await tx.facts.get(ENDED_BY)
    await tx.audit.append(now, AuditEntry("signoff", "policy_ended", details={"end": end, "expired": so_far}))
    await tx.outbox.enqueue(
        now,
        notices.policy_notice(
            deps.summary_channel, "ended", start=utc_text(current.start), end=end, by=ended_by, expired=so_far
        ),
    )
    await tx.facts.put(ANNOUNCED, end)
    await tx.facts.delete(PROGRESS)
    return PolicySweep(ended=True, expired=so_far)


async def _warn(tx: Tx, deps: Deps, window: PolicyWindow, now: datetime) -> PolicySweep:
    due = [d for d in WARN_DAYS if now >= window.end - timedelta(days=d)]
    if not due:
        return PolicySweep()
    days = min(due)  # after downtime, only the most recent threshold is worth saying
    sent = await tx.facts.get(WARNED)
    if sent is not None:
        sent_end, _, sent_days = sent.partition("|")
        if sent_end == utc_text(window.end) and int(sent_days) <= days:
            return PolicySweep()
    await tx.outbox.enqueue(now, notices.policy_notice(deps.summary_channel, "warning", end=utc_text(window.end)))
    await tx.audit.append(now, AuditEntry("signoff", "policy_warning", details={"days": days}))
    await tx.facts.put(WARNED, f"{utc_text(window.end)}|{days}")
    return PolicySweep(warned_days=days)


async def _admin_only(tx: Tx, deps: Deps, actor: str, attempt: str, now: datetime) -> None:
    if not deps.roster().is_admin(actor):
        refusal = NotAdmin("Only signoff admins (the roster's `admins`) can change the policy.")
        await tx.refuse(refusal, actor, None, attempt, now)


async def extend_policy(deps: Deps, actor: str, days_text: str, receipt: str | None = None) -> PolicyWindow:
    """Admins only; ``days_text`` is parsed after the admin check, so nobody else learns what it accepts."""
    now = deps.clock.now()

    async def extend(tx: Tx) -> PolicyWindow:
        await _admin_only(tx, deps, actor, "policy_extend", now)
        days = whole_number(days_text, "days", 1, MAX_EXTENSION_DAYS, "`/signoff policy extend 30` (days)")
        await tx.facts.lock_job(JOB)
        before = await timeline_in(tx)
        after = before.extended(days, now)
        old, window = before.window, after.window
        await save_overrides(tx, after)
        await tx.facts.delete(ENDED_BY)
        await tx.audit.append(
            now,
            AuditEntry(
                actor,
                "policy_extended",
                details={
                    "days": days,
                    "from": utc_text(old.end),
                    "to": utc_text(window.end),
                    "start": utc_text(window.start),
                },
            ),
        )
        await tx.outbox.enqueue(
            now,
            notices.policy_notice(deps.summary_channel, "extended", by=actor, days=days, end=utc_text(window.end)),
        )
        return window

    window = await deps.store.transact(extend, receipt)
    deps.policy_changed()
    return window


@dataclass(frozen=True)
class Ended:
    pending: int  # requests still pending when it ended, now being expired by the policy sweep


async def end_policy(deps: Deps, actor: str, receipt: str | None = None) -> Ended:
    """Admins only. The end is recorded now and the answer goes out at once; expiring the pending
    requests and announcing the end (which grow with the data) follow in the policy sweep, which
    is started at once (``policy_changed``)."""
    now = deps.clock.now()

    async def end(tx: Tx) -> Ended:
        await _admin_only(tx, deps, actor, "policy_end", now)
        await tx.facts.lock_job(JOB)
        timeline = await timeline_in(tx)
        current = timeline.window
        if now >= current.end:
            raise Conflict(f"The policy already ended on {current.end:%Y-%m-%d %H:%M} UTC.")
        await save_overrides(tx, timeline.ended(now))
        await tx.facts.put(ENDED_BY, actor)
        await tx.audit.append(now, AuditEntry(actor, "policy_end_requested", details={"was": utc_text(current.end)}))
        return Ended(await tx.requests.count_pending())

    ended = await deps.store.transact(end, receipt)
    deps.policy_changed()
    return ended

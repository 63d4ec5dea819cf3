"""The policy's life: warnings before the end, the end itself (once), and admin changes.

The end is announced exactly once per end time: the announcement, the expiry of every
pending request and the "announced" mark commit in one transaction. A bot that was down
at the end announces at its next sweep. Replicas take turns (the sweep's job lock), so
several replicas announce once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.audit import AuditEntry
from bot.domain.errors import Conflict, NotAdmin
from bot.domain.models import Status
from bot.domain.numbers import whole_number
from bot.domain.policy import PolicyWindow
from bot.domain.timestamps import utc_text
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import save_overrides, timeline_in, window_in
from bot.services.workflow_step import completion
from bot.store.unit_of_work import Tx

WARN_DAYS = (14, 7, 1)
ANNOUNCED = "policy_end_announced"  # the end time that was announced
WARNED = "policy_warned"  # "<end>|<days>": the last warning sent for that end
ENDED_BY = "policy_ended_by"  # the admin who ended it early
MAX_EXTENSION_DAYS = 3650
JOB = "policy"


@dataclass(frozen=True)
class PolicySweep:
    ended: bool = False
    expired: int = 0
    warned_days: int | None = None


async def sweep_policy(deps: Deps) -> PolicySweep:
    now = deps.clock.now()

    async def sweep(tx: Tx) -> PolicySweep:
        await tx.facts.lock_job(JOB)
        await tx.requests.lock_all()
        window = await window_in(tx)
        if now >= window.end:
            return await _end(tx, deps, window, now)
        return await _warn(tx, deps, window, now)

    return await deps.store.transact(sweep)


async def _end(tx: Tx, deps: Deps, window: PolicyWindow, now: datetime) -> PolicySweep:
    if await tx.facts.get(ANNOUNCED) == utc_text(window.end):
        return PolicySweep()
    pending = await tx.requests.pending_ids()
    for request_id in pending:
        req = await tx.requests.get_for_update(request_id)
        assert req is not None
        reviewers = await tx.assignments.active(request_id)  # before the outcome closes them
        await tx.requests.set_outcome(request_id, status=Status.EXPIRED, now=now, reason="policy ended")
        await tx.audit.append(now, AuditEntry("signoff", "expired", request_id, "policy_ended"))
        queued = [
            notices.tell_requester(request_id, req.requester, notices.EXPIRED),
            *await completion(tx, request_id),
            notices.review_refresh(request_id),
        ]
        if req.reviewer is None:
            queued.append(notices.claim_refresh(request_id))
        queued += [notices.home_refresh(user) for user in sorted({req.requester, *reviewers})]
        await tx.outbox.enqueue_many(now, queued)
    ended_by = await tx.facts.get(ENDED_BY)
    await tx.audit.append(
        now, AuditEntry("signoff", "policy_ended", details={"end": utc_text(window.end), "expired": len(pending)})
    )
    await tx.outbox.enqueue(
        now,
        notices.policy_notice(
            deps.summary_channel,
            "ended",
            start=utc_text(window.start),
            end=utc_text(window.end),
            by=ended_by,
            expired=len(pending),
        ),
    )
    await tx.facts.put(ANNOUNCED, utc_text(window.end))
    return PolicySweep(ended=True, expired=len(pending))


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


async def extend_policy(deps: Deps, actor: str, days_text: str, delivery: str | None = None) -> PolicyWindow:
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

    window = await deps.store.transact(extend, delivery)
    deps.policy_changed()
    return window


async def end_policy(deps: Deps, actor: str, delivery: str | None = None) -> PolicySweep:
    now = deps.clock.now()

    async def end(tx: Tx) -> None:
        await _admin_only(tx, deps, actor, "policy_end", now)
        await tx.facts.lock_job(JOB)
        timeline = await timeline_in(tx)
        window = timeline.window
        if now >= window.end:
            raise Conflict(f"The policy already ended on {window.end:%Y-%m-%d %H:%M} UTC.")
        await save_overrides(tx, timeline.ended(now))
        await tx.facts.put(ENDED_BY, actor)
        await tx.audit.append(now, AuditEntry(actor, "policy_end_requested", details={"was": utc_text(window.end)}))

    await deps.store.transact(end, delivery)
    deps.policy_changed()
    return await sweep_policy(deps)

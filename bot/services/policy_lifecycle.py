"""The policy's life: warnings before the end, the end itself (once), and admin changes.

The end is announced exactly once per end time: the announcement, the expiry of every
pending request and the "announced" mark commit in one transaction. A bot that was down
at the end announces at its next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.errors import Conflict, NotAdmin, SignoffError
from bot.domain.models import Status
from bot.domain.numbers import whole_number
from bot.domain.policy import PolicyWindow
from bot.services import guard, notices
from bot.services.deps import Deps
from bot.services.policy_state import save_overrides, timeline_in, window_in
from bot.services.workflow_step import completion
from bot.store import audit, meta, outbox
from bot.store import requests as store
from bot.store.audit import AuditEntry
from bot.store.db import Conn, many, to_db

WARN_DAYS = (14, 7, 1)
ANNOUNCED = "policy_end_announced"  # the end time that was announced
WARNED = "policy_warned"  # "<end>|<days>": the last warning sent for that end
ENDED_BY = "policy_ended_by"  # the admin who ended it early
MAX_EXTENSION_DAYS = 3650


@dataclass(frozen=True)
class PolicySweep:
    ended: bool = False
    expired: int = 0
    warned_days: int | None = None


async def sweep_policy(deps: Deps) -> PolicySweep:
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        window = await window_in(conn)
        if now >= window.end:
            result = await _end(conn, deps, window, now)
        else:
            result = await _warn(conn, deps, window, now)
    if result.ended or result.warned_days is not None:
        deps.committed(None)
    return result


async def _end(conn: Conn, deps: Deps, window: PolicyWindow, now: datetime) -> PolicySweep:
    if await meta.get_in(conn, ANNOUNCED) == to_db(window.end):
        return PolicySweep()
    pending = await many(conn, "SELECT id, requester, reviewer FROM requests WHERE status = 'pending' ORDER BY id")
    for row in pending:
        request_id = int(row["id"])
        reviewers = await store.active_reviewers(conn, request_id)  # before the outcome closes them
        await store.set_outcome(conn, request_id, status=Status.EXPIRED, now=now, reason="policy ended")
        await audit.append(conn, now, AuditEntry("signoff", "expired", request_id, "policy_ended"))
        await outbox.enqueue(conn, now, notices.tell_requester(request_id, row["requester"], notices.EXPIRED))
        await outbox.enqueue_many(conn, now, await completion(conn, request_id))
        await outbox.enqueue(conn, now, notices.review_refresh(request_id))
        if row["reviewer"] is None:
            await outbox.enqueue(conn, now, notices.claim_refresh(request_id))
        for user in {row["requester"], *reviewers}:
            await outbox.enqueue(conn, now, notices.home_refresh(user))
    ended_by = await meta.get_in(conn, ENDED_BY)
    await audit.append(
        conn, now, AuditEntry("signoff", "policy_ended", details={"end": to_db(window.end), "expired": len(pending)})
    )
    await outbox.enqueue(
        conn,
        now,
        notices.policy_notice(
            deps.summary_channel,
            "ended",
            start=to_db(window.start),
            end=to_db(window.end),
            by=ended_by,
            expired=len(pending),
        ),
    )
    await meta.put(conn, ANNOUNCED, to_db(window.end))
    return PolicySweep(ended=True, expired=len(pending))


async def _warn(conn: Conn, deps: Deps, window: PolicyWindow, now: datetime) -> PolicySweep:
    due = [d for d in WARN_DAYS if now >= window.end - timedelta(days=d)]
    if not due:
        return PolicySweep()
    days = min(due)  # after downtime, only the most recent threshold is worth saying
    sent = await meta.get_in(conn, WARNED)
    if sent is not None:
        sent_end, _, sent_days = sent.partition("|")
        if sent_end == to_db(window.end) and int(sent_days) <= days:
            return PolicySweep()
    await outbox.enqueue(conn, now, notices.policy_notice(deps.summary_channel, "warning", end=to_db(window.end)))
    await audit.append(conn, now, AuditEntry("signoff", "policy_warning", details={"days": days}))
    await meta.put(conn, WARNED, f"{to_db(window.end)}|{days}")
    return PolicySweep(warned_days=days)


async def _admin_refusal(conn: Conn, deps: Deps, actor: str, attempt: str) -> SignoffError | None:
    if deps.roster().is_admin(actor):
        return None
    refusal = NotAdmin("Only signoff admins (the roster's `admins`) can change the policy.")
    await guard.record_refusal(conn, deps.clock.now(), actor, None, attempt, refusal)
    return refusal


async def extend_policy(deps: Deps, actor: str, days_text: str, delivery: str | None = None) -> PolicyWindow:
    """Admins only; ``days_text`` is parsed after the admin check, so nobody else learns what it accepts."""
    now = deps.clock.now()
    async with deps.db.transaction(delivery) as conn:
        refusal = await _admin_refusal(conn, deps, actor, "policy_extend")
        if refusal is None:
            days = whole_number(days_text, "days", 1, MAX_EXTENSION_DAYS, "`/signoff policy extend 30` (days)")
            before = await timeline_in(conn)
            after = before.extended(days, now)
            old, window = before.window, after.window
            await save_overrides(conn, after)
            await conn.execute("DELETE FROM meta WHERE key = ?", (ENDED_BY,))
            await audit.append(
                conn,
                now,
                AuditEntry(
                    actor,
                    "policy_extended",
                    details={
                        "days": days,
                        "from": to_db(old.end),
                        "to": to_db(window.end),
                        "start": to_db(window.start),
                    },
                ),
            )
            await outbox.enqueue(
                conn,
                now,
                notices.policy_notice(deps.summary_channel, "extended", by=actor, days=days, end=to_db(window.end)),
            )
    if refusal is not None:
        raise refusal
    deps.committed(None)
    deps.policy_changed()
    return window


async def end_policy(deps: Deps, actor: str, delivery: str | None = None) -> PolicySweep:
    now = deps.clock.now()
    async with deps.db.transaction(delivery) as conn:
        refusal = await _admin_refusal(conn, deps, actor, "policy_end")
        if refusal is None:
            timeline = await timeline_in(conn)
            window = timeline.window
            if now >= window.end:
                refusal = Conflict(f"The policy already ended on {window.end:%Y-%m-%d %H:%M} UTC.")
            else:
                await save_overrides(conn, timeline.ended(now))
                await meta.put(conn, ENDED_BY, actor)
                await audit.append(
                    conn, now, AuditEntry(actor, "policy_end_requested", details={"was": to_db(window.end)})
                )
    if refusal is not None:
        raise refusal
    deps.policy_changed()
    return await sweep_policy(deps)

"""Reminders and escalation for reviews that wait too long.

One sweep handles everything overdue, however long the bot was down: an overdue
assignment is escalated (not also reminded), and the new assignment starts its own
clock, so a second sweep changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.routing import choose_reviewer
from bot.services import notices
from bot.services.deps import Deps
from bot.store import audit, outbox
from bot.store import requests as store
from bot.store.audit import AuditEntry
from bot.store.db import Conn, many, to_db


@dataclass(frozen=True)
class ReviewSweep:
    reminded: int = 0
    escalated: int = 0
    unassigned: int = 0


async def sweep_reviews(deps: Deps, reminder_after: timedelta, escalate_after: timedelta) -> ReviewSweep:
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        escalated, unassigned = await _escalate(conn, deps, now - escalate_after, now)
        reminded = await _remind(conn, now - reminder_after, now)
    result = ReviewSweep(reminded, escalated, unassigned)
    if reminded or escalated or unassigned:
        deps.committed(None)
    return result


_OVERDUE = (
    "SELECT a.request_id AS request_id, a.reviewer AS reviewer FROM assignments a"
    " JOIN requests r ON r.id = a.request_id"
    " WHERE a.active = 1 AND r.status = 'pending' AND a.assigned_at <= ? {extra} ORDER BY a.request_id"
)


async def _remind(conn: Conn, cutoff: datetime, now: datetime) -> int:
    rows = await many(conn, _OVERDUE.format(extra="AND a.reminded_at IS NULL"), (to_db(cutoff),))
    for row in rows:
        await conn.execute(
            "UPDATE assignments SET reminded_at = ? WHERE request_id = ? AND reviewer = ?",
            (to_db(now), row["request_id"], row["reviewer"]),
        )
        await outbox.enqueue(conn, now, notices.reminder(int(row["request_id"]), str(row["reviewer"])))
        await audit.append(
            conn, now, AuditEntry("signoff", "reminded", int(row["request_id"]), details={"to": row["reviewer"]})
        )
    return len(rows)


async def _escalate(conn: Conn, deps: Deps, cutoff: datetime, now: datetime) -> tuple[int, int]:
    rows = await many(conn, _OVERDUE.format(extra=""), (to_db(cutoff),))
    if not rows:
        return 0, 0
    roster = deps.roster()
    away = await store.away_users(conn)
    load, last = await store.reviewer_load(conn, roster.seniors())
    escalated = unassigned = 0
    for row in rows:
        request_id, old = int(row["request_id"]), str(row["reviewer"])
        req = await store.get(conn, request_id)
        assert req is not None
        previous = await many(conn, "SELECT reviewer FROM assignments WHERE request_id = ?", (request_id,))
        tried = {str(p["reviewer"]) for p in previous}
        new = choose_reviewer(roster, req.requester, req.draft.authors, away, load, last, exclude=tried)
        await conn.execute("UPDATE assignments SET active = 0 WHERE request_id = ? AND reviewer = ?", (request_id, old))
        load[old] = max(0, load.get(old, 0) - 1)
        await outbox.enqueue(conn, now, notices.review_refresh(request_id))
        if new is not None:
            await store.assign(conn, request_id, new, now, "escalated")
            load[new] = load.get(new, 0) + 1
            last[new] = now
            await audit.append(
                conn, now, AuditEntry("signoff", "escalated", request_id, details={"from": old, "to": new})
            )
            await outbox.enqueue(conn, now, notices.review_dm(request_id, new))
            await outbox.enqueue(conn, now, notices.tell_requester(request_id, req.requester, notices.ESCALATED))
            await outbox.enqueue(
                conn, now, notices.channel_note(request_id, deps.summary_channel, notices.ESCALATED, old=old, new=new)
            )
            await outbox.enqueue(conn, now, notices.home_refresh(new))
            escalated += 1
        else:
            await conn.execute(
                "UPDATE requests SET reviewer = NULL, updated_at = ? WHERE id = ?", (to_db(now), request_id)
            )
            await audit.append(
                conn, now, AuditEntry("signoff", "escalated", request_id, "no_eligible_reviewer", {"from": old})
            )
            await outbox.enqueue(conn, now, notices.claim_post(request_id, deps.summary_channel))
            await outbox.enqueue(conn, now, notices.tell_requester(request_id, req.requester, notices.UNASSIGNED))
            unassigned += 1
        await outbox.enqueue(conn, now, notices.home_refresh(old))
    return escalated, unassigned

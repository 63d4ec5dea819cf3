"""Reminders and escalation for reviews that wait too long.

One sweep handles everything overdue, however long the bot was down: an overdue
assignment is escalated (not also reminded), and the new assignment starts its own
clock, so a second sweep changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import Roster
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
    escalated: int = 0  # escalated, or moved from someone who may no longer review
    unassigned: int = 0
    back: int = 0  # people whose away time ended


async def sweep_reviews(deps: Deps, reminder_after: timedelta, escalate_after: timedelta) -> ReviewSweep:
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        back = await _back_from_away(conn, now)
        routing = await Routing.read(conn, deps)
        moved = await move_reviews_of_unavailable(conn, deps, now, routing)
        escalated, unassigned = await _escalate(conn, deps, routing, now - escalate_after, now)
        reminded = await _remind(conn, now - reminder_after, now)
    result = ReviewSweep(reminded, escalated + moved, unassigned, back)
    if reminded or escalated or unassigned or moved or back:
        deps.committed(None)
    return result


@dataclass
class Routing:
    """What reassigning needs, read once per transaction and kept current as reviews move."""

    roster: Roster
    away: set[str]
    delegates: dict[str, str]
    load: dict[str, int]
    last: dict[str, datetime]

    @classmethod
    async def read(cls, conn: Conn, deps: Deps) -> Routing:
        roster = deps.roster()
        load, last = await store.reviewer_load(conn, roster.seniors())
        return cls(roster, await store.away_users(conn), await store.delegates(conn), load, last)


async def move_reviews_of_unavailable(conn: Conn, deps: Deps, now: datetime, routing: Routing | None = None) -> int:
    """Every pending review held by someone who may no longer review (away, deactivated, off the
    roster or no longer senior) moves at once to another eligible senior, as an escalation does."""
    routing = routing or await Routing.read(conn, deps)
    may_review = set(routing.roster.seniors()) - routing.away
    held = await store.reviews_held_outside(conn, may_review)
    for request_id, reviewer in held:
        reason = "reviewer_away" if reviewer in routing.away else "reviewer_not_eligible"
        await reassign(conn, deps, routing, request_id, reviewer, now, reason)
    return len(held)


async def reviews_follow_roster(deps: Deps) -> int:
    """After the roster changed (a user-group event or refresh): move reviews at once."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        moved = await move_reviews_of_unavailable(conn, deps, now)
    if moved:
        deps.committed(None)
    return moved


async def _back_from_away(conn: Conn, now: datetime) -> int:
    users = await store.back_due(conn, now)
    for user in users:
        await store.set_away(conn, user, False, now)
        await audit.append(conn, now, AuditEntry(user, "back", details={"by": "away_until"}))
        await outbox.enqueue(conn, now, notices.availability_dm(user, notices.BACK))
    return len(users)


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


async def _escalate(conn: Conn, deps: Deps, routing: Routing, cutoff: datetime, now: datetime) -> tuple[int, int]:
    rows = await many(conn, _OVERDUE.format(extra=""), (to_db(cutoff),))
    escalated = unassigned = 0
    for row in rows:
        if await reassign(conn, deps, routing, int(row["request_id"]), str(row["reviewer"]), now):
            escalated += 1
        else:
            unassigned += 1
    return escalated, unassigned


async def reassign(
    conn: Conn, deps: Deps, routing: Routing, request_id: int, old: str, now: datetime, reason: str | None = None
) -> bool:
    """Move one review from ``old`` to the next eligible senior who has not had it (an away
    reviewer's delegate first); with nobody, post it for any senior to claim. The old DM's
    buttons stop deciding, the requester and the channel are told. True when someone has it."""
    req = await store.get(conn, request_id)
    assert req is not None
    previous = await many(conn, "SELECT reviewer FROM assignments WHERE request_id = ?", (request_id,))
    tried = {str(p["reviewer"]) for p in previous}
    new = choose_reviewer(
        routing.roster,
        req.requester,
        req.draft.authors,
        routing.away,
        routing.load,
        routing.last,
        exclude=tried,
        prefer=routing.delegates.get(old),
    )
    await conn.execute("UPDATE assignments SET active = 0 WHERE request_id = ? AND reviewer = ?", (request_id, old))
    routing.load[old] = max(0, routing.load.get(old, 0) - 1)
    await outbox.enqueue(conn, now, notices.review_refresh(request_id))
    action = "escalated" if reason is None else "reassigned"
    if new is not None:
        await store.assign(conn, request_id, new, now, action)
        routing.load[new] = routing.load.get(new, 0) + 1
        routing.last[new] = now
        await audit.append(conn, now, AuditEntry("signoff", action, request_id, reason, {"from": old, "to": new}))
        await outbox.enqueue(conn, now, notices.review_dm(request_id, new))
        await outbox.enqueue(conn, now, notices.tell_requester(request_id, req.requester, notices.ESCALATED))
        await outbox.enqueue(
            conn, now, notices.channel_note(request_id, deps.summary_channel, notices.ESCALATED, old=old, new=new)
        )
        await outbox.enqueue(conn, now, notices.home_refresh(new))
    else:
        await conn.execute("UPDATE requests SET reviewer = NULL, updated_at = ? WHERE id = ?", (to_db(now), request_id))
        await audit.append(
            conn, now, AuditEntry("signoff", action, request_id, reason or "no_eligible_reviewer", {"from": old})
        )
        await outbox.enqueue(conn, now, notices.claim_post(request_id, deps.summary_channel))
        await outbox.enqueue(conn, now, notices.tell_requester(request_id, req.requester, notices.UNASSIGNED))
    await outbox.enqueue(conn, now, notices.home_refresh(old))
    return new is not None

"""Reminders and escalation for reviews that wait too long, and reviews that must move.

One sweep handles everything overdue, however long the bot was down: an overdue assignment is
escalated (not also reminded), and the new assignment starts its own clock, so a second sweep
changes nothing. The work goes a batch of ``BATCH`` reviews per transaction (a thousand overdue
reviews after a long outage never hold the event loop in one transaction), and every
transaction takes the routing lock, so replicas take turns and each reminder and escalation
happens once. The sweep first reads, without a lock, whether anything is due: nearly always
nothing is, and then it takes no lock at all (the routing lock is one every create and decision
needs, and the sweep runs every 30 seconds on every replica).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.audit import AuditEntry
from bot.domain.outbox import Event
from bot.domain.routing import choose_reviewer
from bot.services import notices
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.services.routing_inputs import RoutingInputs
from bot.store.unit_of_work import Repos, Tx

BATCH = 40  # reviews reminded, escalated or moved per transaction


@dataclass(frozen=True)
class ReviewSweep:
    reminded: int = 0
    escalated: int = 0  # escalated, or moved from someone who may no longer review
    unassigned: int = 0
    back: int = 0  # people whose away time ended


async def sweep_reviews(deps: Deps, reminder_after: timedelta, escalate_after: timedelta) -> ReviewSweep:
    now = deps.clock.now()
    total = ReviewSweep()
    async with deps.store.read() as r:
        if not await _anything_due(r, deps, now, reminder_after, escalate_after):
            return total
    while True:

        async def step(tx: Tx) -> ReviewSweep:
            await tx.requests.lock_all()
            left = BATCH
            back = await _back_from_away(tx, now, left)
            left -= back
            routing = await RoutingInputs.read(tx, deps.roster())
            moved = await move_reviews_of_unavailable(tx, deps, now, routing, left) if left else 0
            left -= moved
            escalated, unassigned = await _escalate(tx, deps, routing, now - escalate_after, now, left)
            left -= escalated + unassigned
            reminded = await _remind(tx, now - reminder_after, now, left) if left else 0
            return ReviewSweep(reminded, escalated + moved, unassigned, back)

        done = await deps.store.transact(step)
        total = ReviewSweep(
            total.reminded + done.reminded,
            total.escalated + done.escalated,
            total.unassigned + done.unassigned,
            total.back + done.back,
        )
        if done.reminded + done.escalated + done.unassigned + done.back < BATCH:
            return total


async def _anything_due(
    r: Repos, deps: Deps, now: datetime, reminder_after: timedelta, escalate_after: timedelta
) -> bool:
    """Whether a sweep has anything to do, read without a lock. A change committed just after
    this read is seen by the next sweep; whatever is due is read again under the lock."""
    if await r.availability.back_due(now, 1):
        return True
    if await r.assignments.overdue(now - reminder_after, unreminded_only=True, limit=1):
        return True
    if await r.assignments.overdue(now - escalate_after, unreminded_only=False, limit=1):
        return True
    away, _ = await r.availability.unavailable()
    return bool(await r.assignments.held_outside(set(deps.roster().seniors()) - set(away), 1))


async def move_reviews_of_unavailable(
    tx: Tx, deps: Deps, now: datetime, routing: RoutingInputs | None = None, limit: int = BATCH
) -> int:
    """Pending reviews held by someone who may no longer review (away, deactivated, off the roster
    or no longer senior) move to another eligible senior, as an escalation does: up to ``limit``
    now, the rest at the next sweep (or the next batch of ``reviews_follow_roster``)."""
    await tx.requests.lock_all()
    routing = routing or await RoutingInputs.read(tx, deps.roster())
    may_review = set(routing.roster.seniors()) - routing.away
    held = await tx.assignments.held_outside(may_review, limit)
    for request_id, reviewer in held:
        reason = "reviewer_away" if reviewer in routing.away else "reviewer_not_eligible"
        await reassign(tx, deps, routing, request_id, reviewer, now, reason)
    return len(held)


async def reviews_follow_roster(deps: Deps) -> int:
    """After the roster changed (a user-group event or refresh): move reviews now, a batch per
    transaction."""
    moved = 0
    while True:

        async def follow(tx: Tx) -> int:
            return await move_reviews_of_unavailable(tx, deps, deps.clock.now())

        done = await deps.store.transact(follow)
        moved += done
        if done < BATCH:
            return moved


async def _back_from_away(tx: Tx, now: datetime, limit: int) -> int:
    users = await tx.availability.back_due(now, limit)
    for user in users:
        await tx.availability.set_away(user, False, now)
        await tx.audit.append(now, AuditEntry(user, "back", details={"by": "away_until"}))
        await tx.outbox.enqueue(now, notices.availability_dm(user, Event.BACK))
    return len(users)


async def _remind(tx: Tx, cutoff: datetime, now: datetime, limit: int) -> int:
    due = await tx.assignments.overdue(cutoff, unreminded_only=True, limit=limit)
    for request_id, reviewer in due:
        await tx.assignments.mark_reminded(request_id, reviewer, now)
        await tx.outbox.enqueue(now, notices.reminder(request_id, reviewer))
        await tx.audit.append(now, AuditEntry("signoff", "reminded", request_id, details={"to": reviewer}))
    return len(due)


async def _escalate(
    tx: Tx, deps: Deps, routing: RoutingInputs, cutoff: datetime, now: datetime, limit: int
) -> tuple[int, int]:
    escalated = unassigned = 0
    if limit <= 0:
        return 0, 0
    for request_id, reviewer in await tx.assignments.overdue(cutoff, unreminded_only=False, limit=limit):
        if await reassign(tx, deps, routing, request_id, reviewer, now):
            escalated += 1
        else:
            unassigned += 1
    return escalated, unassigned


async def reassign(
    tx: Tx, deps: Deps, routing: RoutingInputs, request_id: int, old: str, now: datetime, reason: str | None = None
) -> bool:
    """Move one review from ``old`` to the next eligible senior who has not had it (an away
    reviewer's delegate first); with nobody, post it for any senior to claim. The old DM's
    buttons stop deciding, the requester and the channel are told. True when someone has it."""
    req = await tx.requests.get_for_update(request_id)
    assert req is not None
    tried = set(await tx.assignments.everyone(request_id))
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
    await tx.assignments.move_away(request_id, old, now)
    routing.load[old] = max(0, routing.load.get(old, 0) - 1)
    queued = [notices.review_refresh(request_id)]
    action = "escalated" if reason is None else "reassigned"
    if new is not None:
        await tx.assignments.assign(request_id, new, now, action)
        routing.load[new] = routing.load.get(new, 0) + 1
        routing.last[new] = now
        await tx.audit.append(now, AuditEntry("signoff", action, request_id, reason, {"from": old, "to": new}))
        queued.append(notices.review_dm(request_id, new))
        if not req.awaiting_review_after_the_fact:
            queued.append(notices.tell_requester(request_id, req.requester, Event.ESCALATED))
        queued += [
            notices.channel_note(request_id, deps.summary_channel, Event.ESCALATED, old=old, new=new),
            *await refresh_homes(tx, [new]),
        ]
    else:
        await tx.audit.append(
            now, AuditEntry("signoff", action, request_id, reason or "no_eligible_reviewer", {"from": old})
        )
        if request_id not in routing.posted_for_claim:
            routing.posted_for_claim.add(request_id)
            queued.append(notices.claim_post(request_id, deps.summary_channel))
            if not req.awaiting_review_after_the_fact:
                queued.append(notices.tell_requester(request_id, req.requester, Event.UNASSIGNED))
    queued += await refresh_homes(tx, [old])
    await tx.outbox.enqueue_many(now, queued)
    return new is not None

"""Reviewers mark themselves away (until a date, or for a while, with a delegate) or back, and
Slack tells us who was deactivated. Nobody unavailable is asked to review: their pending
reviews move at once to another eligible senior, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.audit import AuditEntry
from bot.domain.errors import InvalidInput, NotEligible
from bot.services.deps import Deps
from bot.services.review_timers import move_reviews_of_unavailable
from bot.store.unit_of_work import Tx


@dataclass(frozen=True)
class Availability:
    changed: bool
    moved: int = 0  # pending reviews handed to someone else


async def set_availability(
    deps: Deps,
    actor: str,
    away: bool,
    receipt: str | None = None,
    until: datetime | None = None,
    delegate: str | None = None,
) -> Availability:
    now = deps.clock.now()
    roster = deps.roster()

    async def change(tx: Tx) -> Availability:
        await tx.requests.lock_all()  # reviews may move: first, so locks are always taken in one order
        if not roster.is_senior(actor):
            refusal = NotEligible(
                "Only reviewers (senior, staff or principal engineers on the roster) can mark themselves away."
            )
            await tx.refuse(refusal, actor, None, "away" if away else "back", now)
        if until is not None and until <= now:
            raise InvalidInput({"until": "must be in the future"})
        if delegate is not None and (delegate == actor or not roster.is_senior(delegate)):
            raise InvalidInput({"delegate": "must be another senior, staff or principal engineer on the roster"})
        if not await tx.availability.set_away(actor, away, now, until, delegate):
            return Availability(False)
        details = {k: v for k, v in (("until", until and until.isoformat()), ("delegate", delegate)) if v}
        await tx.audit.append(now, AuditEntry(actor, "away" if away else "back", details=details or None))
        moved = await move_reviews_of_unavailable(tx, deps, now) if away else 0
        return Availability(True, moved)

    return await deps.store.transact(change, receipt)


async def set_deactivated(deps: Deps, user: str, deactivated: bool) -> int:
    """Slack's ``user_change``: a deactivated person's pending reviews move now. Returns how many."""
    now = deps.clock.now()

    async def change(tx: Tx) -> int:
        await tx.requests.lock_all()
        if not await tx.availability.set_deactivated(user, deactivated, now):
            return 0
        await tx.audit.append(
            now, AuditEntry("slack", "deactivated" if deactivated else "reactivated", None, None, {"user": user})
        )
        return await move_reviews_of_unavailable(tx, deps, now) if deactivated else 0

    return await deps.store.transact(change)

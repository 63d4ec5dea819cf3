"""Reviewers mark themselves away (until a date, or for a while, with a delegate) or back, and
Slack tells us who was deactivated. Nobody unavailable is asked to review: their pending
reviews move at once to another eligible senior, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import InvalidInput, NotEligible, SignoffError
from bot.services import guard
from bot.services.deps import Deps
from bot.services.review_timers import move_reviews_of_unavailable
from bot.store import audit
from bot.store import requests as store
from bot.store.audit import AuditEntry


@dataclass(frozen=True)
class Availability:
    changed: bool
    moved: int = 0  # pending reviews handed to someone else


async def set_availability(
    deps: Deps,
    actor: str,
    away: bool,
    delivery: str | None = None,
    until: datetime | None = None,
    delegate: str | None = None,
) -> Availability:
    now = deps.clock.now()
    refusal: SignoffError | None = None
    result = Availability(False)
    roster = deps.roster()
    async with deps.db.transaction(delivery) as conn:
        if not roster.is_senior(actor):
            refusal = NotEligible(
                "Only reviewers (senior, staff or principal engineers on the roster) can mark themselves away."
            )
            await guard.record_refusal(conn, now, actor, None, "away" if away else "back", refusal)
        elif until is not None and until <= now:
            refusal = InvalidInput({"until": "must be in the future"})
        elif delegate is not None and (delegate == actor or not roster.is_senior(delegate)):
            refusal = InvalidInput({"delegate": "must be another senior, staff or principal engineer on the roster"})
        elif await store.set_away(conn, actor, away, now, until, delegate):
            details = {k: v for k, v in (("until", until and until.isoformat()), ("delegate", delegate)) if v}
            await audit.append(conn, now, AuditEntry(actor, "away" if away else "back", details=details or None))
            moved = await move_reviews_of_unavailable(conn, deps, now) if away else 0
            result = Availability(True, moved)
    if refusal is not None:
        raise refusal
    if result.moved:
        deps.committed(None)
    return result


async def set_deactivated(deps: Deps, user: str, deactivated: bool) -> int:
    """Slack's ``user_change``: a deactivated person's pending reviews move now. Returns how many."""
    now = deps.clock.now()
    moved = 0
    async with deps.db.transaction() as conn:
        if await store.set_deactivated(conn, user, deactivated, now):
            await audit.append(
                conn,
                now,
                AuditEntry("slack", "deactivated" if deactivated else "reactivated", None, None, {"user": user}),
            )
            if deactivated:
                moved = await move_reviews_of_unavailable(conn, deps, now)
    if moved:
        deps.committed(None)
    return moved

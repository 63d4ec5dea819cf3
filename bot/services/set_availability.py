"""Reviewers mark themselves away or back. Away reviewers get no new requests.

Requests already assigned stay with them; reminders and escalation move stale ones on.
"""

from __future__ import annotations

from bot.domain.errors import NotEligible, SignoffError
from bot.services import guard
from bot.services.deps import Deps
from bot.store import audit
from bot.store import requests as store
from bot.store.audit import AuditEntry


async def set_availability(deps: Deps, actor: str, away: bool, delivery: str | None = None) -> bool:
    """Returns True if anything changed."""
    now = deps.clock.now()
    refusal: SignoffError | None = None
    changed = False
    async with deps.db.transaction(delivery) as conn:
        if not deps.roster().is_senior(actor):
            refusal = NotEligible(
                "Only reviewers (senior, staff or principal engineers on the roster) can mark themselves away."
            )
            await guard.record_refusal(conn, now, actor, None, "away" if away else "back", refusal)
        else:
            changed = await store.set_away(conn, actor, away, now)
            if changed:
                await audit.append(conn, now, AuditEntry(actor, "away" if away else "back"))
    if refusal is not None:
        raise refusal
    return changed

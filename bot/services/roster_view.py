"""`/signoff roster`: who is who, and where each person's level comes from (admins only)."""

from __future__ import annotations

from bot.domain.errors import NotAdmin
from bot.domain.models import Engineer, Roster
from bot.services.deps import Deps
from bot.store.unit_of_work import Tx


async def roster_for_admin(deps: Deps, actor: str) -> Roster:
    roster = deps.roster()
    if not roster.is_admin(actor):
        refusal = NotAdmin("Only signoff admins (the roster's `admins`) can see the whole roster.")

        async def refuse(tx: Tx) -> None:
            await tx.refuse(refusal, actor, None, "roster", deps.clock.now())

        await deps.store.transact(refuse)
    return roster


def by_level(roster: Roster) -> list[Engineer]:
    return sorted(roster.engineers.values(), key=lambda e: (not e.level.is_senior, e.level.value, e.user))

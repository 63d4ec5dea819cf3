"""Refusals that happen outside any request's transaction (a bad API token) still leave a record."""

from __future__ import annotations

from bot.domain.errors import SignoffError
from bot.services.deps import Deps
from bot.services.guard import record_refusal


async def audit_refusal(deps: Deps, actor: str, attempt: str, err: SignoffError) -> None:
    async with deps.db.transaction() as conn:
        await record_refusal(conn, deps.clock.now(), actor, None, attempt, err)

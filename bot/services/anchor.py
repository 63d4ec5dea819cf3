"""Once a day the audit trail's last hash is posted to the summary channel: an independent
copy that a later edit of the database cannot change."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.services import notices
from bot.services.deps import Deps
from bot.store.unit_of_work import Tx

LAST_DAY = "audit_anchor_day"


async def sweep_anchor(deps: Deps, tz: ZoneInfo) -> bool:
    now = deps.clock.now()
    today = now.astimezone(tz).date().isoformat()

    async def anchor(tx: Tx) -> bool:
        await tx.facts.lock_job(LAST_DAY)  # replicas take turns: one anchor a day
        last = await tx.facts.get(LAST_DAY)
        if last == today:
            return False
        if last is None:  # a new install: the first anchor is tomorrow's, after a day of use
            await tx.facts.put(LAST_DAY, today)
            return False
        head = await tx.audit.head()
        if head is None:
            return False
        await tx.facts.put(LAST_DAY, today)
        seq, digest = head
        await tx.outbox.enqueue(now, notices.audit_anchor(deps.summary_channel, day=today, seq=seq, hash=digest))
        return True

    return await deps.store.transact(anchor)

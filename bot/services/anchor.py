"""Once a day the audit trail's last hash is posted to the summary channel: an independent
copy that a later edit of the database cannot change. Only on a day the trail moved since the
last anchor: a quiet day or a weekend adds nothing."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.services import notices
from bot.services.deps import Deps
from bot.store.unit_of_work import Tx

LAST_DAY = "audit_anchor_day"
LAST_ROW = "audit_anchor_seq"  # the row the last anchor named


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
        await tx.facts.put(LAST_DAY, today)
        head = await tx.audit.head()
        anchored = await tx.facts.get(LAST_ROW)
        since = int(anchored) if anchored is not None and anchored.isdigit() else 0
        if head is None or head[0] <= since:
            return False  # the trail did not move: nothing new to anchor
        seq, digest = head
        await tx.facts.put(LAST_ROW, str(seq))
        await tx.outbox.enqueue(
            now, notices.audit_anchor(deps.summary_channel, day=today, seq=seq, hash=digest, new=seq - since)
        )
        return True

    return await deps.store.transact(anchor)

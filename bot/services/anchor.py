"""Once a day the audit trail's last hash is posted to the summary channel: an independent
copy that a later edit of the database file cannot change."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.services import notices
from bot.services.deps import Deps
from bot.store import meta, outbox
from bot.store.db import one

LAST_DAY = "audit_anchor_day"


async def sweep_anchor(deps: Deps, tz: ZoneInfo) -> bool:
    now = deps.clock.now()
    today = now.astimezone(tz).date().isoformat()
    async with deps.db.transaction() as conn:
        if await meta.get_in(conn, LAST_DAY) == today:
            return False
        last = await one(conn, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        if last is None:
            return False
        await meta.put(conn, LAST_DAY, today)
        await outbox.enqueue(
            conn,
            now,
            notices.audit_anchor(deps.summary_channel, day=today, seq=int(last["seq"]), hash=str(last["hash"])),
        )
    deps.committed(None)
    return True

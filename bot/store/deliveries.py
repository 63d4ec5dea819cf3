"""Slack deliveries already handled, so retries and replays do nothing twice.

A key is written by ``Database.transaction(delivery=...)`` together with the work it
guards; here only the old keys are pruned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.db import Database, to_db

KEEP = timedelta(hours=1)  # well past Slack's 5-minute replay window


async def prune(db: Database, now: datetime) -> int:
    async with db.transaction(durable=False) as conn:
        cur = await conn.execute("DELETE FROM deliveries WHERE seen_at < ?", (to_db(now - KEEP),))
        return cur.rowcount

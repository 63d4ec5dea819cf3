"""Slack deliveries already handled, so retries and replays do nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.db import Database, to_db

KEEP = timedelta(hours=1)  # well past Slack's 5-minute replay window


async def first_time(db: Database, key: str, now: datetime) -> bool:
    """Record the delivery; True only the first time this key is seen."""
    # One statement is its own transaction: no BEGIN/COMMIT round trips on the ack path.
    return await db.write_one("INSERT OR IGNORE INTO deliveries (key, seen_at) VALUES (?, ?)", (key, to_db(now))) == 1


async def prune(db: Database, now: datetime) -> int:
    async with db.transaction() as conn:
        cur = await conn.execute("DELETE FROM deliveries WHERE seen_at < ?", (to_db(now - KEEP),))
        return cur.rowcount

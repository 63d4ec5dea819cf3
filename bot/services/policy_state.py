"""The policy window as stored in the database.

The start is remembered at first run (or taken from POLICY_START). See README,
"Policy precedence", for what wins when settings and stored state disagree.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.policy import PolicyWindow
from bot.store import meta
from bot.store.db import Conn, Database, from_db, opt_from_db, to_db

START = "policy_start"
DAYS = "policy_days"
ENDED_AT = "policy_ended_at"


async def initialise(db: Database, configured_start: datetime | None, configured_days: int, now: datetime) -> None:
    """Record the policy start and length at boot. Settings, when given, win over what is stored."""
    async with db.transaction() as conn:
        if configured_start is not None:
            await meta.put(conn, START, to_db(configured_start))
        else:
            await meta.put_if_absent(conn, START, to_db(now))
        await meta.put(conn, DAYS, str(configured_days))


async def window_in(conn: Conn) -> PolicyWindow:
    start = await meta.get_in(conn, START)
    days = await meta.get_in(conn, DAYS)
    ended = await meta.get_in(conn, ENDED_AT)
    if start is None or days is None:
        raise RuntimeError("policy_state.initialise() was not called")
    return PolicyWindow(start=from_db(start), days=int(days), ended_at=opt_from_db(ended))


async def window(db: Database) -> PolicyWindow:
    start = await meta.get(db, START)
    days = await meta.get(db, DAYS)
    ended = await meta.get(db, ENDED_AT)
    if start is None or days is None:
        raise RuntimeError("policy_state.initialise() was not called")
    return PolicyWindow(start=from_db(start), days=int(days), ended_at=opt_from_db(ended))

"""The policy window as stored in the database, and what wins when settings change.

Precedence (also in the README, "Policy precedence"):
  * Start: POLICY_START when set; otherwise the first start, remembered. A changed
    POLICY_START moves the stored start at the next boot, and the change is audited.
  * Length: POLICY_DAYS, recorded at each boot; a change is audited.
  * An admin's `/signoff policy extend` or `end` sets an explicit end (and, when it restarts
    an ended policy or ends one that had not begun, an explicit start) that wins over the
    settings until the next admin action; a boot that sees the settings differ while such
    an override is in force says so in the log, never silently.
  * Every reader (what is enforced, `/signoff policy`, announcements, the report) derives
    from one window, ``PolicyTimeline.window``, whose start is never after its end.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.policy import PolicyTimeline, PolicyWindow
from bot.store import audit, meta
from bot.store.audit import AuditEntry
from bot.store.db import Conn, Database, Row, from_db, many, to_db

log = logging.getLogger(__name__)

START = "policy_start"
DAYS = "policy_days"
END_OVERRIDE = "policy_end_override"  # set by admins
START_OVERRIDE = "policy_start_override"  # set by an admin's end (before the start) or extend (after the end)


async def initialise(db: Database, configured_start: datetime | None, configured_days: int, now: datetime) -> None:
    """Record the policy start and length at boot, auditing any change from what was stored."""
    async with db.transaction() as conn:
        stored_start = await meta.get_in(conn, START)
        stored_days = await meta.get_in(conn, DAYS)
        start = to_db(configured_start) if configured_start is not None else stored_start or to_db(now)
        if start != stored_start:
            await meta.put(conn, START, start)
            if stored_start is not None and await meta.get_in(conn, START_OVERRIDE) is not None:
                log.warning("POLICY_START changed, but an admin restarted or ended the policy; that period stays")
            if stored_start is not None:
                await audit.append(
                    conn, now, AuditEntry("config", "policy_start_changed", details={"from": stored_start, "to": start})
                )
        if str(configured_days) != stored_days:
            await meta.put(conn, DAYS, str(configured_days))
            if stored_days is not None:
                await audit.append(
                    conn,
                    now,
                    AuditEntry("config", "policy_days_changed", details={"from": stored_days, "to": configured_days}),
                )
                if await meta.get_in(conn, END_OVERRIDE) is not None:
                    log.warning(
                        "POLICY_DAYS changed to %s, but an admin set the policy end explicitly; that end stays",
                        configured_days,
                    )


_KEYS = (START, DAYS, START_OVERRIDE, END_OVERRIDE)
_KEYS_SQL = "SELECT key, value FROM meta WHERE key IN (?, ?, ?, ?)"


def _timeline(rows: list[Row]) -> PolicyTimeline:
    values = {str(r["key"]): str(r["value"]) for r in rows}
    if START not in values or DAYS not in values:
        raise RuntimeError("policy_state.initialise() was not called")
    return PolicyTimeline(
        start=from_db(values[START]),
        days=int(values[DAYS]),
        start_override=from_db(values[START_OVERRIDE]) if START_OVERRIDE in values else None,
        end_override=from_db(values[END_OVERRIDE]) if END_OVERRIDE in values else None,
    )


async def timeline_in(conn: Conn) -> PolicyTimeline:
    return _timeline(await many(conn, _KEYS_SQL, _KEYS))


async def window_in(conn: Conn) -> PolicyWindow:
    return (await timeline_in(conn)).window


async def window(db: Database) -> PolicyWindow:
    return _timeline(await db.fetchall(_KEYS_SQL, _KEYS)).window


async def save_overrides(conn: Conn, timeline: PolicyTimeline) -> None:
    """Store an admin's explicit start and end (the settings' start and days stay as they are)."""
    for key, value in ((START_OVERRIDE, timeline.start_override), (END_OVERRIDE, timeline.end_override)):
        if value is None:
            await conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            await meta.put(conn, key, to_db(value))

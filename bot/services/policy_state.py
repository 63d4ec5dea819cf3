"""The policy window as stored in the database, and what wins when settings change.

Precedence (also in the README, "Policy precedence"):
  * Start: POLICY_START when set; otherwise the first start, remembered. A changed
    POLICY_START moves the stored start at the next boot, and the change is audited.
  * Length: POLICY_DAYS, recorded at each boot; a change is audited.
  * An admin's `/signoff policy extend` or `end` sets an explicit end that wins over
    POLICY_DAYS until the next admin action; a boot that sees POLICY_DAYS differ while
    such an end is in force says so in the log, never silently.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.policy import PolicyWindow
from bot.store import audit, meta
from bot.store.audit import AuditEntry
from bot.store.db import Conn, Database, Row, from_db, many, to_db

log = logging.getLogger(__name__)

START = "policy_start"
DAYS = "policy_days"
END_OVERRIDE = "policy_end_override"  # set by admins


async def initialise(db: Database, configured_start: datetime | None, configured_days: int, now: datetime) -> None:
    """Record the policy start and length at boot, auditing any change from what was stored."""
    async with db.transaction() as conn:
        stored_start = await meta.get_in(conn, START)
        stored_days = await meta.get_in(conn, DAYS)
        start = to_db(configured_start) if configured_start is not None else stored_start or to_db(now)
        if start != stored_start:
            await meta.put(conn, START, start)
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


_KEYS_SQL = "SELECT key, value FROM meta WHERE key IN (?, ?, ?)"
_KEYS = (START, DAYS, END_OVERRIDE)


def _window(rows: list[Row]) -> PolicyWindow:
    values = {str(r["key"]): str(r["value"]) for r in rows}
    if START not in values or DAYS not in values:
        raise RuntimeError("policy_state.initialise() was not called")
    if END_OVERRIDE in values:
        return PolicyWindow(from_db(values[START]), from_db(values[END_OVERRIDE]))
    return PolicyWindow.lasting(from_db(values[START]), int(values[DAYS]))


async def window_in(conn: Conn) -> PolicyWindow:
    return _window(await many(conn, _KEYS_SQL, _KEYS))


async def window(db: Database) -> PolicyWindow:
    return _window(await db.fetchall(_KEYS_SQL, _KEYS))


async def set_end(conn: Conn, end: datetime) -> None:
    await meta.put(conn, END_OVERRIDE, to_db(end))

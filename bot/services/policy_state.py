"""The policy window as stored in the database, and what wins when settings change.

Precedence (also in docs/using-it.md, "Policy precedence"):
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

from bot.domain.audit import AuditEntry
from bot.domain.policy import PolicyTimeline, PolicyWindow
from bot.domain.timestamps import from_utc_text, utc_text
from bot.services import notices
from bot.store.unit_of_work import Repos, Store, Tx

log = logging.getLogger(__name__)

START = "policy_start"
DAYS = "policy_days"
END_OVERRIDE = "policy_end_override"  # set by admins
START_OVERRIDE = "policy_start_override"  # set by an admin's end (before the start) or extend (after the end)


async def initialise(
    store: Store,
    configured_start: datetime | None,
    configured_days: int,
    now: datetime,
    welcome_channel: str | None = None,
) -> None:
    """Record the policy start and length at boot, auditing any change from what was stored. The
    very first start of an install also welcomes ``welcome_channel`` (the summary channel), so its
    first post says what the channel is for.

    Replicas starting at once take turns (the job lock), so a change is recorded once."""
    await store.transact(lambda tx: _initialise(tx, configured_start, configured_days, now, welcome_channel))


async def _initialise(
    tx: Tx, configured_start: datetime | None, configured_days: int, now: datetime, welcome_channel: str | None
) -> None:
    await tx.facts.lock_job("policy-settings")
    stored_start = await tx.facts.get(START)
    if stored_start is None and welcome_channel is not None:
        await tx.outbox.enqueue_many(now, [notices.policy_notice(welcome_channel, "welcome")])
    stored_days = await tx.facts.get(DAYS)
    start = utc_text(configured_start) if configured_start is not None else stored_start or utc_text(now)
    if start != stored_start:
        await tx.facts.put(START, start)
        if stored_start is not None and await tx.facts.get(START_OVERRIDE) is not None:
            log.warning("POLICY_START changed, but an admin restarted or ended the policy; that period stays")
        if stored_start is not None:
            await tx.audit.append(
                now, AuditEntry("config", "policy_start_changed", details={"from": stored_start, "to": start})
            )
    if str(configured_days) != stored_days:
        await tx.facts.put(DAYS, str(configured_days))
        if stored_days is not None:
            await tx.audit.append(
                now,
                AuditEntry("config", "policy_days_changed", details={"from": stored_days, "to": configured_days}),
            )
            if await tx.facts.get(END_OVERRIDE) is not None:
                log.warning(
                    "POLICY_DAYS changed to %s, but an admin set the policy end explicitly; that end stays",
                    configured_days,
                )


_KEYS = (START, DAYS, START_OVERRIDE, END_OVERRIDE)


def _timeline(values: dict[str, str]) -> PolicyTimeline:
    if START not in values or DAYS not in values:
        raise RuntimeError("policy_state.initialise() was not called")
    return PolicyTimeline(
        start=from_utc_text(values[START]),
        days=int(values[DAYS]),
        start_override=from_utc_text(values[START_OVERRIDE]) if START_OVERRIDE in values else None,
        end_override=from_utc_text(values[END_OVERRIDE]) if END_OVERRIDE in values else None,
    )


async def timeline_in(tx: Repos) -> PolicyTimeline:
    return _timeline(await tx.facts.get_many(_KEYS))


async def window_in(tx: Repos) -> PolicyWindow:
    return (await timeline_in(tx)).window


async def window(store: Store) -> PolicyWindow:
    async with store.read() as r:
        return await window_in(r)


async def save_overrides(tx: Tx, timeline: PolicyTimeline) -> None:
    """Store an admin's explicit start and end (the settings' start and days stay as they are)."""
    for key, value in ((START_OVERRIDE, timeline.start_override), (END_OVERRIDE, timeline.end_override)):
        if value is None:
            await tx.facts.delete(key)
        else:
            await tx.facts.put(key, utc_text(value))

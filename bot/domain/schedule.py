"""Crontab parsing that cannot confuse weekdays.

APScheduler's CronTrigger.from_crontab numbers weekdays from Monday = 0, while crontab
uses Sunday = 0. We translate crontab numbers to names (sun, mon, ...) ourselves.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_FIELD = re.compile(r"^[0-9*/,\-A-Za-z]+$")


def _weekday(token: str) -> str:
    def name(m: re.Match[str]) -> str:
        n = int(m.group(0))
        if not 0 <= n <= 7:
            raise ValueError(f"weekday {n} is not 0-7")
        return _NAMES[n]

    if "/" in token:
        return token  # steps over weekdays are rare; pass through as written
    return re.sub(r"[0-9]+", name, token)


def cron_fields(expr: str) -> dict[str, str]:
    """minute hour day month day_of_week, for CronTrigger(**fields). ValueError if malformed."""
    parts = expr.split()
    if len(parts) != 5 or not all(_FIELD.match(p) for p in parts):
        raise ValueError(f"{expr!r} is not five crontab fields like '0 9 * * 1-5'")
    minute, hour, day, month, weekday = parts
    fields = {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": _weekday(weekday)}
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger(**fields, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"{expr!r}: {exc}") from None
    return fields


def fire_times(
    fields: dict[str, str], tz: str, after: datetime, until: datetime, limit: int = 10_000
) -> list[datetime]:
    """Cron fire times t with after < t <= until (at most ``limit``), in UTC."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(**fields, timezone=tz)
    out: list[datetime] = []
    cursor = after + timedelta(microseconds=1)
    while len(out) < limit:
        nxt = trigger.get_next_fire_time(None, cursor)
        if nxt is None or nxt > until:
            break
        out.append(nxt.astimezone(UTC))
        cursor = nxt + timedelta(microseconds=1)
    return out

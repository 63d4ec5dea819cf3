"""Durations as people write them: 90s, 30m, 4h, 2d."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*([0-9]{1,7})\s*([smhd])\s*$", re.IGNORECASE | re.ASCII)
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 4h or 2d")
    value = timedelta(**{_UNIT[m.group(2).lower()]: int(m.group(1))})
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def describe_duration(delta: timedelta) -> str:
    """``7 days``, ``36 hours``, ``90 minutes``, ``45 seconds``: a whole number of the largest unit
    that divides it, in words people read."""
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"

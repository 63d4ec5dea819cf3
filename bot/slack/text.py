"""Making user text safe for Slack: no pings, no broken links, within limits."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape mrkdwn control characters so user text cannot ping @channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + ELLIPSIS


def safe(text: str, limit: int) -> str:
    """Escape, then clip without cutting an entity such as ``&amp;`` in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - 1)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def link(url: str, label: str) -> str:
    """A mrkdwn link whose URL cannot break out of the <url|label> syntax."""
    clean = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{clean}|{safe(label, 200)}>"


def mention(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"


def when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


def clock_time(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return local.strftime("%H:%M ") + (local.tzname() or "UTC")

"""Making user text safe for Slack: no pings, no broken links, within limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest
from bot.domain.outcomes import outcome_words

ELLIPSIS = "…"
SHOWN_INSTEAD = "\ufffd"  # what a reader sees in place of a character that would deceive them
# Bidirectional overrides, embeddings and isolates (the "Trojan Source" set, and the Arabic
# letter mark) make text read differently from what it says; control characters hide text.
_DECEIVING = {
    **{cp: SHOWN_INSTEAD for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x061C)},
    **{cp: SHOWN_INSTEAD for cp in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)) if chr(cp) not in "\n\t"},
}


def readable(text: str) -> str:
    """Text as it says: direction overrides and control characters are shown as \ufffd."""
    return text.translate(_DECEIVING)


def escape(text: str) -> str:
    """Escape mrkdwn control characters so user text cannot ping @channel or forge links."""
    return readable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    text = readable(text)
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


def outcome(req: ChangeRequest, approvers: list[str] | None = None) -> str:
    """How ``req`` ended (or stands) as mrkdwn: people mentioned, a denial's reason as text."""
    reason = safe(req.reason, 1500) if req.reason else req.reason
    return outcome_words(replace(req, reason=reason), mention, approvers)

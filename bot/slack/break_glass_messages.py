"""Pure Block Kit builders for break-glass: the loud note when somebody breaks glass, and the
note when a senior has reviewed it after the fact."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest, Verdict
from bot.domain.outbox import Event
from bot.slack.blocks import Message, blast_radius, plain_section, section
from bot.slack.text import link, mention, safe


def break_glass_note(req: ChangeRequest, event: str, tz: ZoneInfo) -> Message:
    glass = req.break_glass
    assert glass is not None
    what = f"*{req.ref}* {link(req.draft.url, req.draft.title[:150])}"
    env = f" in {safe(req.draft.environment, 60)}" if req.draft.environment else ""
    if event == Event.BREAK_GLASS:
        line = (
            f"{mention(req.requester)} approved it themselves, without a senior's sign-off. "
            "A senior will review it after the fact."
        )
        fallback = f"Break-glass: {req.ref} was approved by its requester without sign-off"
        heading = section(":rotating_light: *Break-glass*")
        change = section(f"{what}{env}")
        return fallback, [heading, change, section(line), plain_section(f"Reason: {glass.reason}"), blast_radius(req)]
    verdict = "justified" if glass.verdict is Verdict.JUSTIFIED else "not justified"
    icon = ":white_check_mark:" if glass.verdict is Verdict.JUSTIFIED else ":warning:"
    title = (
        "Break-glass reviewed: justified"
        if glass.verdict is Verdict.JUSTIFIED
        else "Break-glass reviewed: NOT justified"
    )
    line = (
        f"Break-glass by {mention(req.requester)} (reason: {safe(glass.reason, 300)}) judged *{verdict}* "
        f"by {mention(glass.reviewed_by)}."
    )
    blocks = [section(f"{icon} *{title}*"), section(f"{what}\n{line}")]
    if glass.note:
        blocks.append(plain_section(f"Note: {glass.note}"))
    return f"{req.ref}: {title[0].lower()}{title[1:]}", blocks

"""Pure Block Kit builders for what the outbox sends as time passes: reminders, escalation
notes, availability changes, the pending summary and the daily audit anchor."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.durations import format_duration
from bot.domain.models import ChangeRequest, Status
from bot.services.summary import Summary
from bot.slack.blocks import MAX_BLOCKS, SECTION_MAX, Block, Message, context, section
from bot.slack.policy_messages import policy_line
from bot.slack.text import link, mention, outcome, safe


def availability_message(event: str) -> Message:
    if event == "back":
        text = ":wave: Your away time is over: new reviews can be routed to you again. `/signoff away` pauses them."
    else:
        text = f"Your availability changed ({event})."
    return text, [section(text)]


def group_problem_message(group: str, problem: str) -> Message:
    """To each admin, once per problem: a roster user group cannot be read from Slack."""
    text = (
        f":warning: signoff cannot read the members of the user group {safe(group, 100)} that the roster names: "
        f"{safe(problem, 300)}. Its members keep the levels they had until it can be read again; every other "
        "group is read as usual. Check the roster's `groups:` entry, or the group in Slack."
    )
    return f"signoff cannot read the user group {group}", [section(text)]


def reminder_message(req: ChangeRequest, waited: timedelta) -> Message:
    if req.break_glass is not None:
        text = (
            f":alarm_clock: Reminder: *{req.ref}* was approved by break-glass {format_duration(waited)} ago and "
            f"waits for your review after the fact: {link(req.draft.url, req.draft.title)}. "
            "Record Justified or Not justified on the message above."
        )
        return f"Reminder: {req.ref} waits for your review after the fact", [section(text)]
    text = (
        f":alarm_clock: Reminder: *{req.ref}* has waited {format_duration(waited)} for your sign-off: "
        f"{link(req.draft.url, req.draft.title)}. Approve or deny it on the message above, "
        f"or see it with `/signoff status {req.ref}`."
    )
    return f"Reminder: {req.ref} is waiting for your sign-off", [section(text)]


def reminder_moved_on(req: ChangeRequest, reviewers: list[str]) -> Message:
    """A reminder, updated once the review is no longer its reader's to decide."""
    if req.status is not Status.PENDING and not req.awaiting_review_after_the_fact:
        now = f"it was {outcome(req)}"
    elif reviewers:
        now = f"it is now with {' and '.join(mention(r) for r in reviewers)}"
    else:
        now = "it is posted for any senior to claim"
    text = (
        f":white_check_mark: *{req.ref}* is no longer waiting for you: {now}. See it with `/signoff status {req.ref}`."
    )
    return f"{req.ref} is no longer waiting for you", [section(text)]


def channel_note(req: ChangeRequest, event: str, old: str | None, new: str | None, waited: timedelta) -> Message:
    title = safe(req.draft.title, 200)
    line = (
        f":arrow_right: *{req.ref}* ({title}) waited {format_duration(waited)} for {mention(old)}; "
        f"it is now with {mention(new)}."
    )
    return f"{req.ref} reassigned to {mention(new)}", [section(line)]


def summary_message(summary: Summary, tz: ZoneInfo) -> Message:
    total = summary.total
    header = f"*Pending sign-offs: {total}*\n{policy_line(summary.window, summary.now, tz)}"
    blocks: list[Block] = [section(header)]
    lines: list[str] = []
    for req in summary.oldest:
        age = format_duration(summary.now - req.created_at)
        flag = " :warning: *overdue*" if req.id in summary.overdue else ""
        expires = summary.expires_at.get(req.id)
        if expires is not None:
            flag += f" · :hourglass: *expires in {format_duration(max(expires - summary.now, timedelta(0)))}*"
        reviewer = mention(req.reviewer) if req.reviewer else "_unclaimed_"
        lines.append(
            f"• *{req.ref}* {link(req.draft.url, req.draft.title[:100])} · from {mention(req.requester)}"
            f" · reviewer {reviewer} · {req.progress} · waiting {age}{flag}"
        )
    shown = 0
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > SECTION_MAX - 100:
            if len(blocks) >= MAX_BLOCKS - 2:
                break
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
        shown += 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if total > shown:
        blocks.append(context(f"…and {total - shown} more. `/signoff pending` lists your own."))
    if total == 0:
        blocks.append(context("Nothing is waiting for sign-off."))
    if summary.break_glass_total:
        blocks.append(section(_unreviewed(summary)))
    return f"Pending sign-offs: {total}", blocks


def _unreviewed(summary: Summary) -> str:
    """Every break-glass change not yet reviewed after the fact, until a senior has judged it."""
    lines = [f":rotating_light: *Break-glass changes awaiting review: {summary.break_glass_total}*"]
    used = len(lines[0])
    for req in summary.break_glass:
        reviewer = mention(req.reviewer) if req.reviewer else "_unclaimed_"
        line = (
            f"• *{req.ref}* {link(req.draft.url, req.draft.title[:100])} · broken by {mention(req.requester)}"
            f" · reviewer {reviewer} · {format_duration(summary.now - req.created_at)} ago"
        )
        if used + len(line) > SECTION_MAX - 100:
            break
        lines.append(line)
        used += len(line) + 1
    if summary.break_glass_total > len(lines) - 1:
        lines.append(f"…and {summary.break_glass_total - (len(lines) - 1)} more")
    return "\n".join(lines)


def anchor_message(day: str, seq: int, digest: str, new: int | None = None) -> Message:
    moved = f" ({new} new since the last anchor)" if new is not None else ""
    line = (
        f":lock: Audit anchor for {day}: the audit trail ends at row {seq}{moved}, and its hash is `{digest}`. "
        "Keep this message: `signoff audit verify` on the database must reproduce this hash at this row, so an "
        "edit made later shows."
    )
    return f"Audit anchor for {day}: the audit trail ends at row {seq}{moved}", [section(line)]

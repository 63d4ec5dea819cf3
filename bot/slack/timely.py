"""Pure Block Kit builders for what time brings: reminders, escalation notes, policy notices,
the pending summary and the policy report."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.durations import format_duration
from bot.domain.models import ChangeRequest
from bot.domain.policy import PolicyWindow
from bot.domain.report import Report
from bot.services.summary import Summary
from bot.slack.blocks import MAX_BLOCKS, SECTION_MAX, Block, Message, context, section
from bot.slack.text import link, mention, safe, when


def policy_line(window: PolicyWindow, now: datetime, tz: ZoneInfo) -> str:
    if now < window.start:
        return f"The sign-off policy starts {when(window.start, tz)}."
    if now >= window.end:
        return f"The sign-off policy ended {when(window.end, tz)}."
    days = window.days_left(now)
    return f"The sign-off policy is active until {when(window.end, tz)}: {days} day{'s' if days != 1 else ''} left."


def policy_status(window: PolicyWindow, now: datetime, tz: ZoneInfo) -> Message:
    state = "active" if window.is_active(now) else ("ended" if now >= window.end else "not started")
    lines = [
        f"*Policy:* {state}",
        f"*Start:* {when(window.start, tz)}",
        f"*End:* {when(window.end, tz)}",
        f"*Days left:* {window.days_left(now)}",
    ]
    return f"Sign-off policy: {state}", [section("\n".join(lines))]


def availability_message(event: str) -> Message:
    if event == "back":
        text = ":wave: Your away time is over: new reviews can be routed to you again. `/signoff away` pauses them."
    else:
        text = f"Your availability changed ({event})."
    return text, [section(text)]


def reminder_message(req: ChangeRequest, waited: timedelta) -> Message:
    text = (
        f":alarm_clock: Reminder: *{req.ref}* has waited {format_duration(waited)} for your sign-off: "
        f"{link(req.draft.url, req.draft.title)}. Approve or deny it on the message above, "
        f"or see it with `/signoff status {req.ref}`."
    )
    return f"Reminder: {req.ref} is waiting for your sign-off", [section(text)]


def channel_note(req: ChangeRequest, event: str, old: str | None, new: str | None, waited: timedelta) -> Message:
    title = safe(req.draft.title, 200)
    line = (
        f":arrow_right: *{req.ref}* ({title}) waited {format_duration(waited)} for {mention(old)}; "
        f"it is now with {mention(new)}."
    )
    return f"{req.ref} reassigned to {mention(new)}", [section(line)]


def policy_notice(
    event: str, data: dict[str, object], window: PolicyWindow, now: datetime, tz: ZoneInfo, report: Report | None
) -> Message:
    end = window.end
    if event == "warning":
        days = window.days_left(now)
        line = (
            f":warning: The AI-assisted change sign-off policy ends in {days} day{'s' if days != 1 else ''}, "
            f"on {when(end, tz)}. Admins can extend it with `/signoff policy extend 30`."
        )
        return line, [section(line)]
    if event == "extended":
        line = (
            f":calendar: {mention(str(data.get('by')))} extended the sign-off policy by {data.get('days')} days; "
            f"it now ends {when(end, tz)}."
        )
        return line, [section(line)]
    by = data.get("by")
    early = f", ended early by {mention(str(by))}" if by else ""
    line = (
        f":checkered_flag: The AI-assisted change sign-off policy has ended ({when(end, tz)}{early}). "
        f"{data.get('expired', 0)} pending request(s) expired and their requesters were told. "
        "New requests are recorded without needing sign-off. Here is the report for the policy period."
    )
    blocks = [section(line)]
    if report is not None:
        blocks += report_blocks(report, tz)
    return line, blocks


def _td(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else "—"


def report_blocks(report: Report, tz: ZoneInfo) -> list[Block]:
    head = (
        f"*Sign-off report, {when(report.start, tz)} to {when(report.end, tz)}*\n"
        f"Requests: *{report.total}* ({report.required} required, {report.not_required} not required)\n"
        f"Approved: *{report.approved}* · Denied: *{report.denied}* · Pending: {report.pending} · "
        f"Expired: {report.expired} · Cancelled: {report.cancelled}\n"
        f"Time to decision: median {_td(report.median_to_decision)}, 90th percentile {_td(report.p90_to_decision)}"
    )
    teams = "\n".join(f"• {safe(team, 60)}: {n}" for team, n in report.per_team[:15]) or "• none"
    load = (
        "\n".join(f"• {mention(x.user)}: {x.assigned} assigned, {x.decided} decided" for x in report.reviewer_load[:15])
        or "• none"
    )
    reasons = "\n".join(f"• {safe(reason, 120)} ({n})" for reason, n in report.top_denial_reasons) or "• none"
    return [
        section(head),
        section(f"*Requests per team*\n{teams}"),
        section(f"*Reviewer load*\n{load}"),
        section(f"*Most common denial reasons*\n{reasons}"),
    ]


def report_message(report: Report, tz: ZoneInfo) -> Message:
    return f"Sign-off report: {report.total} requests", report_blocks(report, tz)


def summary_message(summary: Summary, tz: ZoneInfo) -> Message:
    total = summary.total
    header = f"*Pending sign-offs: {total}*\n{policy_line(summary.window, summary.now, tz)}"
    blocks: list[Block] = [section(header)]
    lines: list[str] = []
    for req in summary.oldest:
        age = format_duration(summary.now - req.created_at)
        flag = " :warning: *overdue*" if req.id in summary.overdue else ""
        reviewer = mention(req.reviewer) if req.reviewer else "_unclaimed_"
        lines.append(
            f"• *{req.ref}* {link(req.draft.url, req.draft.title[:100])} · from {mention(req.requester)}"
            f" · reviewer {reviewer} · waiting {age}{flag}"
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
    return f"Pending sign-offs: {total}", blocks


def anchor_message(day: str, seq: int, digest: str) -> Message:
    line = (
        f":lock: Audit anchor for {day}: row {seq}, sha256 `{digest}`. "
        "`signoff audit verify` on the database must reproduce this hash at this row."
    )
    return f"Audit anchor for {day}: row {seq}", [section(line)]

"""Pure Block Kit builders for the policy: `/signoff policy`, its notices (warnings, extension,
the end) and the report."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.durations import format_duration
from bot.domain.policy import PolicyWindow
from bot.domain.report import TREND_WEEKS, BreakGlassUse, Report
from bot.domain.words import count
from bot.slack.blocks import Block, Message, section
from bot.slack.text import mention, safe, when


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


def policy_notice(
    event: str, data: dict[str, object], window: PolicyWindow, now: datetime, tz: ZoneInfo, report: Report | None
) -> Message:
    end = window.end
    if event == "welcome":
        line = (
            ":wave: *signoff is here.* Until "
            f"{when(end, tz)}, AI-assisted production changes by junior, mid-level and unknown engineers "
            "need a senior's sign-off, and changes that delete or replace resources need more. This "
            "channel gets the summary of changes waiting for a senior, requests no senior could be "
            "assigned (with a *Claim* button), break-glass alarms and the policy's notices. "
            "Ask with `/signoff`; `/signoff help` lists everything."
        )
        return "signoff is here: what this channel is for", [section(line)]
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
        f"{count(int(str(data.get('expired', 0))), 'pending request')} expired and their requesters were told. "
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
        f"Requests: *{report.total}* ({report.required} required, {report.not_required} not required; "
        f"{report.several_seniors} needed more than one senior as destructive)\n"
        f"Approved: *{report.approved}* · Denied: *{report.denied}* · Pending: {report.pending} · "
        f"Expired: {report.expired} ({report.expired_no_decision} with no decision in time, "
        f"{report.expired_pipeline} given up by their pipeline, {report.expired_policy_ended} ended with the policy)"
        f" · Cancelled: {report.cancelled}\n"
        f"Commands run by `signoff guard`: {report.commands_ok + report.commands_failed} "
        f"({report.commands_ok} succeeded, {report.commands_failed} failed{_exit_codes(report)})\n"
        f"Time to decision: median {_td(report.median_to_decision)}, 90th percentile {_td(report.p90_to_decision)}\n"
        f"Tiers: an AI-assisted change that deletes or replaces resources (or does not say) needs "
        f"{report.destructive_approvals} senior approval{'s' if report.destructive_approvals != 1 else ''}; "
        "other AI-assisted changes by junior, mid-level or unknown engineers need 1"
    )
    teams = "\n".join(f"• {safe(team, 60)}: {n}" for team, n in report.per_team[:15]) or "• none"
    load = (
        "\n".join(f"• {mention(x.user)}: {x.assigned} assigned, {x.decided} decided" for x in report.reviewer_load[:15])
        or "• none"
    )
    reasons = "\n".join(f"• {safe(reason, 120)} ({n})" for reason, n in report.top_denial_reasons) or "• none"
    glass = report.break_glass
    uses = [
        f"*Break-glass:* {glass.uses} used, {glass.reviewed} reviewed after the fact, "
        f"{glass.not_justified} judged not justified"
    ]
    uses += [f"• {mention(u.who)}: {_glass(u)}" for u in report.break_glass_by_person[:10]]
    uses += [f"• team {safe(u.who, 60)}: {_glass(u)}" for u in report.break_glass_by_team[:10]]
    return [
        section(head),
        section(f"*Requests per team*\n{teams}"),
        section(f"*Reviewer load*\n{load}"),
        section(f"*Most common denial reasons*\n{reasons}"),
        section("\n".join(uses)),
        *([] if len(report.weeks) >= TREND_WEEKS else [section(_NO_TREND)]),
    ]


_NO_TREND = (
    "_Not enough weeks for a trend yet: the chart of requests and time to decision starts with the second week._"
)


def _exit_codes(report: Report) -> str:
    shown = [f"{n} with exit code {code}" for code, n in report.failed_exit_codes[:5]]
    return f": {', '.join(shown)}" if shown else ""


def _glass(u: BreakGlassUse) -> str:
    return f"{u.uses} used, {u.reviewed} reviewed, {u.not_justified} not justified"


def report_message(report: Report, tz: ZoneInfo) -> Message:
    return f"Sign-off report: {report.total} requests", report_blocks(report, tz)

"""The policy-period report: the evidence a team needs to decide whether to extend. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

TOP = 5


@dataclass(frozen=True)
class BreakGlassUse:
    """Break-glass uses of one person or team, and how their reviews after the fact came out."""

    who: str
    uses: int
    reviewed: int
    not_justified: int


@dataclass(frozen=True)
class ReviewerLoad:
    user: str
    assigned: int
    decided: int


@dataclass(frozen=True)
class Week:
    """One week of the period, for the report's chart: requests by tier, and time to decision."""

    start: datetime
    not_required: int = 0
    one_senior: int = 0
    several_seniors: int = 0  # destructive: more than one senior
    break_glass: int = 0
    median_seconds: int | None = None
    p90_seconds: int | None = None


WEEK = timedelta(days=7)
TREND_WEEKS = 2  # one week is a bar, not a trend: the chart starts with the second
MAX_WEEKS = 26  # the chart shows at most the last half year of a longer period


def weeks_of(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The period cut into weeks from its start (the last one may be short); at most the last
    ``MAX_WEEKS``."""
    bounds = []
    at = start
    while at < end:
        bounds.append((at, min(at + WEEK, end)))
        at += WEEK
    return bounds[-MAX_WEEKS:]


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    total: int
    required: int
    not_required: int
    approved: int
    denied: int
    pending: int
    expired: int
    cancelled: int
    median_to_decision: timedelta | None
    p90_to_decision: timedelta | None
    per_team: list[tuple[str, int]]
    reviewer_load: list[ReviewerLoad]
    top_denial_reasons: list[tuple[str, int]]
    several_seniors: int = 0  # requests that needed more than one senior (destructive tier)
    destructive_approvals: int = 2  # the tier in force when the report was made
    break_glass: BreakGlassUse = BreakGlassUse("everyone", 0, 0, 0)
    break_glass_by_person: list[BreakGlassUse] = field(default_factory=list)
    break_glass_by_team: list[BreakGlassUse] = field(default_factory=list)
    expired_no_decision: int = 0  # of ``expired``: nobody decided within REQUEST_TTL
    expired_pipeline: int = 0  # of ``expired``: the pipeline that asked stopped waiting
    expired_policy_ended: int = 0  # of ``expired``: still pending when the policy ended
    commands_ok: int = 0  # commands `signoff guard` ran that exited 0
    commands_failed: int = 0  # … that exited otherwise
    failed_exit_codes: list[tuple[int, int]] = field(default_factory=list)  # (exit code, commands), most first
    weeks: list[Week] = field(default_factory=list)  # for the chart


@dataclass(frozen=True)
class PeriodFacts:
    """What the database counted for the period (bot/store/sql/report.py), before people are
    grouped by team."""

    statuses: list[tuple[str, bool, str | None, int]]  # (status, sign-off required, why it ended, requests)
    by_requester: list[tuple[str, int]]
    denial_reasons: list[tuple[str, int]]
    break_glass: list[tuple[str, int, int, int]]  # (requester, uses, reviewed, not justified)
    median_seconds: int | None
    p90_seconds: int | None
    several_seniors: int
    reviewer_shares: list[ReviewerLoad]
    commands_run: list[tuple[str, int]] = field(default_factory=list)  # (exit code, commands guard ran)


def build_report(
    start: datetime,
    end: datetime,
    facts: PeriodFacts,
    team_of: Callable[[str], str],
    destructive_approvals: int = 2,
) -> Report:
    status: Counter[str] = Counter()
    ended: Counter[str] = Counter()
    required = not_required = 0
    for name, needed, why, n in facts.statuses:
        status[name] += n
        ended[why or ""] += n
        required += n if needed else 0
        not_required += 0 if needed else n
    teams: Counter[str] = Counter()
    for person, n in facts.by_requester:
        teams[team_of(person)] += n
    reasons: Counter[str] = Counter()
    for reason, n in facts.denial_reasons:
        reasons[" ".join(reason.split())[:120]] += n
    uses = [BreakGlassUse(person, u, r, nj) for person, u, r, nj in facts.break_glass]
    by_team: dict[str, BreakGlassUse] = {}
    for use in uses:
        team = team_of(use.who)
        was = by_team.get(team, BreakGlassUse(team, 0, 0, 0))
        by_team[team] = BreakGlassUse(
            team, was.uses + use.uses, was.reviewed + use.reviewed, was.not_justified + use.not_justified
        )
    return Report(
        start=start,
        end=end,
        total=sum(status.values()),
        required=required,
        not_required=not_required,
        approved=status["approved"],
        denied=status["denied"],
        pending=status["pending"],
        expired=status["expired"],
        cancelled=status["cancelled"],
        median_to_decision=_seconds(facts.median_seconds),
        p90_to_decision=_seconds(facts.p90_seconds),
        per_team=sorted(teams.items(), key=lambda kv: (-kv[1], kv[0])),
        reviewer_load=sorted(facts.reviewer_shares, key=lambda x: (-x.assigned, x.user)),
        top_denial_reasons=sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        destructive_approvals=destructive_approvals,
        several_seniors=facts.several_seniors,
        break_glass=BreakGlassUse(
            "everyone", sum(u.uses for u in uses), sum(u.reviewed for u in uses), sum(u.not_justified for u in uses)
        ),
        break_glass_by_person=_ranked(uses),
        break_glass_by_team=_ranked(list(by_team.values())),
        expired_no_decision=ended["no_decision"],
        expired_pipeline=ended["pipeline_gave_up"],
        expired_policy_ended=ended["policy_ended"],
        commands_ok=sum(n for code, n in facts.commands_run if code == "0"),
        commands_failed=sum(n for code, n in facts.commands_run if code != "0"),
        failed_exit_codes=_failed_codes(facts.commands_run),
    )


def _failed_codes(commands_run: list[tuple[str, int]]) -> list[tuple[int, int]]:
    codes: Counter[int] = Counter()
    for code, n in commands_run:
        if code.lstrip("-").isdigit() and int(code) != 0:
            codes[int(code)] += n
    return sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _ranked(uses: list[BreakGlassUse]) -> list[BreakGlassUse]:
    return sorted(uses, key=lambda u: (-u.uses, u.who))

"""The policy-period report: the evidence a team needs to decide whether to extend. Pure."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

TOP = 5


@dataclass(frozen=True)
class ReportRow:
    status: str
    required: bool
    created_at: datetime
    decided_at: datetime | None
    team: str
    reason: str | None
    person: str = ""
    approvals_needed: int = 1
    break_glass: str | None = None  # the review after the fact: pending | justified | not_justified


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


def percentile(values: list[timedelta], p: float) -> timedelta | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def build_report(
    start: datetime,
    end: datetime,
    rows: Iterable[ReportRow],
    loads: Iterable[ReviewerLoad],
    destructive_approvals: int = 2,
) -> Report:
    rows = list(rows)
    status = Counter(r.status for r in rows)
    decision_times = [
        r.decided_at - r.created_at for r in rows if r.status in ("approved", "denied") and r.decided_at is not None
    ]
    reasons = Counter(" ".join(r.reason.lower().split())[:120] for r in rows if r.status == "denied" and r.reason)
    teams = Counter(r.team for r in rows)
    return Report(
        start=start,
        end=end,
        total=len(rows),
        required=sum(1 for r in rows if r.required),
        not_required=sum(1 for r in rows if not r.required),
        approved=status["approved"],
        denied=status["denied"],
        pending=status["pending"],
        expired=status["expired"],
        cancelled=status["cancelled"],
        median_to_decision=percentile(decision_times, 50),
        p90_to_decision=percentile(decision_times, 90),
        per_team=sorted(teams.items(), key=lambda kv: (-kv[1], kv[0])),
        reviewer_load=sorted(loads, key=lambda x: (-x.assigned, x.user)),
        top_denial_reasons=sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        destructive_approvals=destructive_approvals,
        several_seniors=sum(1 for r in rows if r.required and r.approvals_needed > 1 and r.break_glass is None),
        break_glass=_uses("everyone", [r for r in rows if r.break_glass is not None]),
        break_glass_by_person=_grouped(rows, lambda r: r.person),
        break_glass_by_team=_grouped(rows, lambda r: r.team),
    )


def _uses(who: str, rows: list[ReportRow]) -> BreakGlassUse:
    return BreakGlassUse(
        who,
        uses=len(rows),
        reviewed=sum(1 for r in rows if r.break_glass in ("justified", "not_justified")),
        not_justified=sum(1 for r in rows if r.break_glass == "not_justified"),
    )


def _grouped(rows: list[ReportRow], key: Callable[[ReportRow], str]) -> list[BreakGlassUse]:
    groups: dict[str, list[ReportRow]] = {}
    for r in rows:
        if r.break_glass is not None:
            groups.setdefault(key(r), []).append(r)
    found = [_uses(who, members) for who, members in groups.items()]
    return sorted(found, key=lambda u: (-u.uses, u.who))

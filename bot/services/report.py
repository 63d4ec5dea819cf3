"""The report for the policy period, from what the database recorded."""

from __future__ import annotations

from bot.domain.report import Report, ReportRow, ReviewerLoad, build_report
from bot.services.deps import Deps
from bot.services.policy_state import window_in


async def policy_report(deps: Deps) -> Report:
    roster = deps.roster()
    async with deps.store.read() as r:
        w = await window_in(r)
        period = await r.report.requests_in(w.start, w.end)
        shares = await r.report.reviewer_shares(w.start, w.end)
    rows = []
    for p in period:
        engineer = roster.get(p.requester)
        rows.append(
            ReportRow(
                status=p.status,
                required=p.required,
                created_at=p.created_at,
                decided_at=p.decided_at,
                team=(engineer.team if engineer and engineer.team else "no team"),
                reason=p.reason if p.status == "denied" else None,
                person=p.requester,
                approvals_needed=p.approvals_needed,
                break_glass=p.break_glass_verdict,
            )
        )
    loads = [ReviewerLoad(reviewer, assigned, decided) for reviewer, assigned, decided in shares]
    return build_report(w.start, w.end, rows, loads, deps.destructive_approvals)

"""The report for the policy period, from what the database recorded."""

from __future__ import annotations

from bot.domain.report import Report, ReportRow, ReviewerLoad, build_report
from bot.services.deps import Deps
from bot.services.policy_state import window
from bot.store.db import from_db, opt_from_db, to_db


async def policy_report(deps: Deps) -> Report:
    w = await window(deps.db)
    roster = deps.roster()
    span = (to_db(w.start), to_db(w.end))
    rows = await deps.db.fetchall(
        "SELECT requester, status, sign_off_required, created_at, decided_at, reason FROM requests"
        " WHERE created_at >= ? AND created_at < ?",
        span,
    )
    report_rows = []
    for r in rows:
        engineer = roster.get(r["requester"])
        report_rows.append(
            ReportRow(
                status=r["status"],
                required=bool(r["sign_off_required"]),
                created_at=from_db(r["created_at"]),
                decided_at=opt_from_db(r["decided_at"]),
                team=(engineer.team if engineer and engineer.team else "no team"),
                reason=r["reason"] if r["status"] == "denied" else None,
            )
        )
    load_rows = await deps.db.fetchall(
        "SELECT a.reviewer AS reviewer, COUNT(*) AS assigned,"
        " SUM(CASE WHEN r.decided_by = a.reviewer AND r.status IN ('approved', 'denied') THEN 1 ELSE 0 END) AS decided"
        " FROM assignments a JOIN requests r ON r.id = a.request_id"
        " WHERE r.created_at >= ? AND r.created_at < ? GROUP BY a.reviewer",
        span,
    )
    loads = [ReviewerLoad(str(r["reviewer"]), int(r["assigned"]), int(r["decided"] or 0)) for r in load_rows]
    return build_report(w.start, w.end, report_rows, loads)

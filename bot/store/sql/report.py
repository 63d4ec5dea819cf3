"""What the policy report reads: every request of a period, and each reviewer's share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.timestamps import from_utc_text, opt_from_utc_text, utc_text
from bot.store.executor import Executor


@dataclass(frozen=True)
class PeriodRequest:
    requester: str
    status: str
    required: bool
    created_at: datetime
    decided_at: datetime | None
    reason: str | None
    approvals_needed: int = 1
    break_glass_verdict: str | None = None  # None: not break-glass


class ReportReads:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def requests_in(self, start: datetime, end: datetime) -> list[PeriodRequest]:
        rows = await self._ex.many(
            "SELECT requester, status, sign_off_required, created_at, decided_at, reason, approvals_needed,"
            " break_glass_verdict FROM requests"
            " WHERE created_at >= ? AND created_at < ? ORDER BY id",
            (utc_text(start), utc_text(end)),
        )
        return [
            PeriodRequest(
                requester=str(r["requester"]),
                status=str(r["status"]),
                required=bool(r["sign_off_required"]),
                created_at=from_utc_text(r["created_at"]),
                decided_at=opt_from_utc_text(r["decided_at"]),
                reason=r["reason"],
                approvals_needed=int(r["approvals_needed"]),
                break_glass_verdict=r["break_glass_verdict"],
            )
            for r in rows
        ]

    async def reviewer_shares(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """(reviewer, reviews assigned, reviews they decided) for requests made in the period."""
        rows = await self._ex.many(
            "SELECT a.reviewer AS reviewer, COUNT(*) AS assigned,"
            " SUM(CASE WHEN r.decided_by = a.reviewer AND r.status IN ('approved', 'denied') THEN 1 ELSE 0 END)"
            " AS decided FROM assignments a JOIN requests r ON r.id = a.request_id"
            " WHERE r.created_at >= ? AND r.created_at < ? GROUP BY a.reviewer ORDER BY a.reviewer",
            (utc_text(start), utc_text(end)),
        )
        return [(str(r["reviewer"]), int(r["assigned"]), int(r["decided"] or 0)) for r in rows]

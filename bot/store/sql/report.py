"""What the policy report reads: counts and aggregates of a period's requests, computed in the
database. Nothing here returns a row per request, so a period of a million requests costs the
bot a few dozen rows (the work is the database's, and on SQLite it runs in a reader thread)."""

from __future__ import annotations

import math
from datetime import datetime

from bot.domain.timestamps import utc_text
from bot.store.executor import Executor

_PERIOD = "created_at >= ? AND created_at < ?"
_DECIDED = f"{_PERIOD} AND status IN ('approved', 'denied') AND seconds_to_decision IS NOT NULL"


class ReportReads:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    @staticmethod
    def _period(start: datetime, end: datetime) -> tuple[str, str]:
        return utc_text(start), utc_text(end)

    async def statuses(self, start: datetime, end: datetime) -> list[tuple[str, bool, str | None, int]]:
        """(status, sign-off required, why it ended, requests) for requests made in the period."""
        rows = await self._ex.many(
            f"SELECT status, sign_off_required, final_reason, COUNT(*) AS n FROM requests WHERE {_PERIOD}"
            " GROUP BY status, sign_off_required, final_reason",
            self._period(start, end),
        )
        return [(str(r["status"]), bool(r["sign_off_required"]), r["final_reason"], int(r["n"])) for r in rows]

    async def commands_run(self, start: datetime, end: datetime) -> list[tuple[str, int]]:
        """(exit code, commands) of the commands `signoff guard` ran in the period."""
        rows = await self._ex.many(
            "SELECT reason, COUNT(*) AS n FROM audit WHERE action = 'command_ran' AND at >= ? AND at < ?"
            " GROUP BY reason",
            self._period(start, end),
        )
        return [(str(r["reason"]), int(r["n"])) for r in rows]

    async def several_seniors(self, start: datetime, end: datetime) -> int:
        """Requests that needed more than one senior (not counting break-glass)."""
        row = await self._ex.one(
            f"SELECT COUNT(*) AS n FROM requests WHERE {_PERIOD} AND sign_off_required = 1"
            " AND approvals_needed > 1 AND break_glass_reason IS NULL",
            self._period(start, end),
        )
        return int(row["n"]) if row else 0

    async def by_requester(self, start: datetime, end: datetime) -> list[tuple[str, int]]:
        rows = await self._ex.many(
            f"SELECT requester, COUNT(*) AS n FROM requests WHERE {_PERIOD} GROUP BY requester",
            self._period(start, end),
        )
        return [(str(r["requester"]), int(r["n"])) for r in rows]

    async def denial_reasons(self, start: datetime, end: datetime, limit: int) -> list[tuple[str, int]]:
        """The commonest denial reasons (case and outer spaces ignored), most common first, each
        shown as people wrote it: the form written most often (the earliest, on a tie)."""
        rows = await self._ex.many(
            "SELECT shown, total FROM (SELECT k, shown, SUM(n) OVER (PARTITION BY k) AS total,"
            " ROW_NUMBER() OVER (PARTITION BY k ORDER BY n DESC, first) AS rn FROM ("
            "SELECT LOWER(TRIM(reason)) AS k, TRIM(reason) AS shown, COUNT(*) AS n, MIN(created_at) AS first"
            f" FROM requests WHERE {_PERIOD} AND status = 'denied' AND reason IS NOT NULL"
            " GROUP BY LOWER(TRIM(reason)), TRIM(reason)) AS forms) AS ranked"
            " WHERE rn = 1 ORDER BY total DESC, k LIMIT ?",
            (*self._period(start, end), limit),
        )
        return [(str(r["shown"]), int(r["total"])) for r in rows]

    async def break_glass_by_requester(self, start: datetime, end: datetime) -> list[tuple[str, int, int, int]]:
        """(requester, break-glass uses, reviewed after the fact, judged not justified)."""
        rows = await self._ex.many(
            "SELECT requester, COUNT(*) AS uses,"
            " SUM(CASE WHEN break_glass_verdict IN ('justified', 'not_justified') THEN 1 ELSE 0 END) AS reviewed,"
            " SUM(CASE WHEN break_glass_verdict = 'not_justified' THEN 1 ELSE 0 END) AS unjustified"
            f" FROM requests WHERE {_PERIOD} AND break_glass_reason IS NOT NULL GROUP BY requester",
            self._period(start, end),
        )
        return [(str(r["requester"]), int(r["uses"]), int(r["reviewed"]), int(r["unjustified"])) for r in rows]

    async def seconds_to_decision(self, start: datetime, end: datetime, percents: tuple[int, ...]) -> list[int | None]:
        """Nearest-rank percentiles of the seconds from request to decision (approved or denied)."""
        period = self._period(start, end)
        row = await self._ex.one(f"SELECT COUNT(*) AS n FROM requests WHERE {_DECIDED}", period)
        count = int(row["n"]) if row else 0
        found: list[int | None] = []
        for p in percents:
            if count == 0:
                found.append(None)
                continue
            rank = min(count, max(1, math.ceil(p / 100 * count)))
            picked = await self._ex.one(
                f"SELECT seconds_to_decision AS s FROM requests WHERE {_DECIDED}"
                " ORDER BY seconds_to_decision LIMIT 1 OFFSET ?",
                (*period, rank - 1),
            )
            found.append(int(picked["s"]) if picked else None)
        return found

    async def weekly_tiers(self, weeks: list[tuple[datetime, datetime]]) -> dict[int, dict[str, int]]:
        """Requests made in each week by tier (``not_required``, ``one``, ``several``,
        ``break_glass``): one query, the week told by comparing ``created_at`` to each week's end."""
        if not weeks:
            return {}
        which = " ".join(f"WHEN created_at < ? THEN {i}" for i in range(len(weeks)))
        tier = (
            "CASE WHEN break_glass_reason IS NOT NULL THEN 'break_glass' WHEN sign_off_required = 0 THEN 'not_required'"
            " WHEN approvals_needed > 1 THEN 'several' ELSE 'one' END"
        )
        rows = await self._ex.many(
            f"SELECT CASE {which} END AS week, {tier} AS tier, COUNT(*) AS n FROM requests"
            f" WHERE {_PERIOD} GROUP BY 1, 2",
            (*(utc_text(end) for _, end in weeks), utc_text(weeks[0][0]), utc_text(weeks[-1][1])),
        )
        found: dict[int, dict[str, int]] = {}
        for r in rows:
            found.setdefault(int(r["week"]), {})[str(r["tier"])] = int(r["n"])
        return found

    async def reviewer_shares(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """(reviewer, reviews assigned, reviews they decided) for requests made in the period. Every
        approval counts as a decision, not only the one that made a request final."""
        rows = await self._ex.many(
            "SELECT a.reviewer AS reviewer, COUNT(*) AS assigned,"
            " SUM(CASE WHEN EXISTS (SELECT 1 FROM decisions d WHERE d.request_id = a.request_id"
            " AND d.reviewer = a.reviewer) THEN 1 ELSE 0 END) AS decided"
            " FROM assignments a JOIN requests r ON r.id = a.request_id"
            " WHERE r.created_at >= ? AND r.created_at < ? GROUP BY a.reviewer ORDER BY a.reviewer",
            self._period(start, end),
        )
        return [(str(r["reviewer"]), int(r["assigned"]), int(r["decided"] or 0)) for r in rows]

"""Assignments (who reviews what; the one record of it) and decisions (one per person)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from bot.domain.timestamps import from_utc_text, utc_text
from bot.store.executor import ChangeLog, Executor, Row

# A review is open while its request waits for a decision, or a break-glass change waits for
# its review after the fact.
OPEN_REVIEW = "(r.status = 'pending' OR r.break_glass_verdict = 'pending')"
_OVERDUE = (
    "SELECT a.request_id AS request_id, a.reviewer AS reviewer FROM assignments a"
    " JOIN requests r ON r.id = a.request_id"
    f" WHERE a.active = 1 AND {OPEN_REVIEW} AND a.assigned_at <= ? {{extra}}"
    # Oldest first, in the index's order, so the LIMIT ends the scan instead of sorting every open review.
    " ORDER BY a.assigned_at, a.request_id, a.reviewer LIMIT ?"
)


class Assignments:
    def __init__(self, ex: Executor, log: ChangeLog) -> None:
        self._ex = ex
        self._log = log

    async def assign(self, request_id: int, reviewer: str, now: datetime, how: str, new: bool = False) -> None:
        """``reviewer`` may decide ``request_id`` from now (routed | claimed | escalated | reassigned).
        ``new``: the request was inserted in this transaction (nothing else to update)."""
        stamp = utc_text(now)
        await self._ex.send(
            "INSERT INTO assignments (request_id, reviewer, assigned_at, how, active, moved) VALUES (?, ?, ?, ?, 1, 0)"
            " ON CONFLICT (request_id, reviewer) DO UPDATE SET active = 1, moved = 0,"
            " assigned_at = excluded.assigned_at, how = excluded.how, reminded_at = NULL",
            (request_id, reviewer, stamp, how),
        )
        if not new:
            await self._ex.send("UPDATE requests SET updated_at = ? WHERE id = ?", (stamp, request_id))
        self._log.requests.add(request_id)

    async def move_away(self, request_id: int, reviewer: str, now: datetime) -> None:
        """``reviewer`` no longer reviews ``request_id`` (escalated, away, off the roster)."""
        await self._ex.send(
            "UPDATE assignments SET active = 0, moved = 1 WHERE request_id = ? AND reviewer = ?", (request_id, reviewer)
        )
        await self._ex.send("UPDATE requests SET updated_at = ? WHERE id = ?", (utc_text(now), request_id))
        self._log.requests.add(request_id)

    async def finish(self, request_id: int, reviewer: str) -> None:
        """``reviewer`` has done their part (approved while more approvals are needed)."""
        await self._ex.send(
            "UPDATE assignments SET active = 0 WHERE request_id = ? AND reviewer = ?", (request_id, reviewer)
        )
        self._log.requests.add(request_id)

    async def active(self, request_id: int) -> list[str]:
        rows = await self._ex.many(
            "SELECT reviewer FROM assignments WHERE request_id = ? AND active = 1 ORDER BY reviewer", (request_id,)
        )
        return [str(r["reviewer"]) for r in rows]

    async def active_of(self, request_ids: Sequence[int]) -> dict[int, list[str]]:
        """The active reviewers of each of ``request_ids``, in one statement (each sorted)."""
        rows = await _of_each(
            self._ex,
            "SELECT request_id, reviewer FROM assignments WHERE request_id IN ({marks}) AND active = 1"
            " ORDER BY request_id, reviewer",
            request_ids,
        )
        return {i: [str(r["reviewer"]) for r in found] for i, found in rows.items()}

    async def active_and_decision_of(self, request_id: int, actor: str) -> tuple[list[str], str | None]:
        """(the active reviewers, what ``actor`` decided on it: approve | deny | None), read in one
        statement: a decision or a claim needs both, on the path a person waits for."""
        rows = await self._ex.many(
            "SELECT 'reviewer' AS kind, reviewer AS value FROM assignments WHERE request_id = ? AND active = 1"
            " UNION ALL SELECT 'decision', decision FROM decisions WHERE request_id = ? AND reviewer = ?",
            (request_id, request_id, actor),
        )
        reviewers = sorted(str(r["value"]) for r in rows if r["kind"] == "reviewer")
        decision = next((str(r["value"]) for r in rows if r["kind"] == "decision"), None)
        return reviewers, decision

    async def assigned_at(self, request_id: int, reviewer: str) -> datetime | None:
        """When ``reviewer`` was (last) given ``request_id``; None if never."""
        row = await self._ex.one(
            "SELECT assigned_at FROM assignments WHERE request_id = ? AND reviewer = ?", (request_id, reviewer)
        )
        return from_utc_text(row["assigned_at"]) if row else None

    async def everyone(self, request_id: int) -> list[str]:
        """Everyone ever asked to review ``request_id``, first asked first."""
        rows = await self._ex.many(
            "SELECT reviewer FROM assignments WHERE request_id = ? ORDER BY assigned_at, reviewer", (request_id,)
        )
        return [str(r["reviewer"]) for r in rows]

    async def overdue(self, cutoff: datetime, unreminded_only: bool, limit: int) -> list[tuple[int, str]]:
        extra = "AND a.reminded_at IS NULL" if unreminded_only else ""
        rows = await self._ex.many(_OVERDUE.format(extra=extra), (utc_text(cutoff), limit))
        return [(int(r["request_id"]), str(r["reviewer"])) for r in rows]

    async def mark_reminded(self, request_id: int, reviewer: str, now: datetime) -> None:
        await self._ex.send(
            "UPDATE assignments SET reminded_at = ? WHERE request_id = ? AND reviewer = ?",
            (utc_text(now), request_id, reviewer),
        )

    async def held_outside(self, allowed: Collection[str], limit: int) -> list[tuple[int, str]]:
        """(request, reviewer) of up to ``limit`` open reviews whose reviewer is not in ``allowed``.
        Who holds open reviews comes from the load ledger (a row per reviewer), so when nobody
        outside holds one, which is nearly always, no assignment is read at all."""
        holders = await self._ex.many(
            "SELECT reviewer FROM (SELECT reviewer, open FROM reviewer_stats"
            " UNION ALL SELECT reviewer, open_delta FROM reviewer_load) AS t GROUP BY reviewer HAVING SUM(open) > 0"
        )
        outside = sorted({str(r["reviewer"]) for r in holders} - set(allowed))
        if not outside:
            return []
        rows = await self._ex.many(
            "SELECT a.request_id AS request_id, a.reviewer AS reviewer FROM assignments a"
            f" JOIN requests r ON r.id = a.request_id WHERE a.reviewer IN ({', '.join('?' * len(outside))})"
            f" AND a.active = 1 AND {OPEN_REVIEW} ORDER BY a.request_id, a.reviewer LIMIT ?",
            [*outside, limit],
        )
        return [(int(r["request_id"]), str(r["reviewer"])) for r in rows]

    async def load(self, reviewers: Iterable[str]) -> tuple[dict[str, int], dict[str, datetime]]:
        """Open reviews of each reviewer, and when each was last assigned anything: the folded
        ``reviewer_stats`` plus the ledger rows not yet folded (both kept by triggers, so the cost
        does not grow with the requests, and nothing here waits on another transaction)."""
        load, last, _away, _delegates = await self.load_and_unavailable(reviewers)
        return load, last

    async def load_and_unavailable(
        self, reviewers: Iterable[str]
    ) -> tuple[dict[str, int], dict[str, datetime], set[str], dict[str, str]]:
        """``load`` and ``Availability.unavailable`` in one statement: what routing reads."""
        people = sorted(set(reviewers))
        marks = ", ".join("?" * len(people)) or "NULL"
        rows = await self._ex.many(
            "SELECT 'load' AS part, reviewer AS who, SUM(open) AS open, MAX(last) AS last,"
            " NULL AS away, NULL AS delegate FROM ("
            f" SELECT reviewer, open, last_assigned_at AS last FROM reviewer_stats WHERE reviewer IN ({marks})"
            " UNION ALL"
            f" SELECT reviewer, open_delta, assigned_at FROM reviewer_load WHERE reviewer IN ({marks})"
            ") AS t GROUP BY reviewer"
            " UNION ALL SELECT 'away', \"user\", NULL, NULL, away, delegate FROM availability"
            " WHERE away = 1 OR deactivated = 1",
            [*people, *people],
        )
        loads = [r for r in rows if r["part"] == "load"]
        unavailable = [r for r in rows if r["part"] == "away"]
        return (
            {str(r["who"]): int(r["open"]) for r in loads if r["open"]},
            {str(r["who"]): from_utc_text(r["last"]) for r in loads if r["last"]},
            {str(r["who"]) for r in unavailable},
            {str(r["who"]): str(r["delegate"]) for r in unavailable if r["away"] and r["delegate"] is not None},
        )

    async def fold_load(self, limit: int) -> int:
        """Move up to ``limit`` of the oldest ledger rows into ``reviewer_stats``; returns how many.

        The rows folded are exactly the rows deleted (``DELETE … RETURNING``), so a fold that
        runs beside another, on any replica, never counts a row twice; the stats rows are
        written in reviewer order, so two folds cannot wait on each other in a cycle."""
        rows = await self._ex.many(
            "DELETE FROM reviewer_load WHERE id IN (SELECT id FROM reviewer_load ORDER BY id LIMIT ?)"
            " RETURNING reviewer, open_delta, assigned_at",
            (limit,),
        )
        totals: dict[str, tuple[int, str]] = {}
        for r in rows:
            open_now, last = totals.get(str(r["reviewer"]), (0, ""))
            totals[str(r["reviewer"])] = (open_now + int(r["open_delta"]), max(last, str(r["assigned_at"])))
        await self._ex.run_many(
            "INSERT INTO reviewer_stats (reviewer, open, last_assigned_at) VALUES (?, ?, ?)"
            " ON CONFLICT (reviewer) DO UPDATE SET open = reviewer_stats.open + excluded.open,"
            " last_assigned_at = CASE WHEN excluded.last_assigned_at > COALESCE(reviewer_stats.last_assigned_at, '')"
            " THEN excluded.last_assigned_at ELSE reviewer_stats.last_assigned_at END",
            [(reviewer, delta, last) for reviewer, (delta, last) in sorted(totals.items())],
        )
        return len(rows)


class Decisions:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def record(self, request_id: int, reviewer: str, decision: str, reason: str | None, now: datetime) -> bool:
        """False when this person already decided this request."""
        changed = await self._ex.run(
            "INSERT INTO decisions (request_id, reviewer, decision, reason, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (request_id, reviewer) DO NOTHING",
            (request_id, reviewer, decision, reason, utc_text(now)),
        )
        return changed == 1

    async def approvals(self, request_id: int) -> int:
        row = await self._ex.one(
            "SELECT COUNT(*) AS n FROM decisions WHERE request_id = ? AND decision = 'approve'", (request_id,)
        )
        return int(row["n"]) if row else 0

    async def approvals_at(self, request_id: int) -> list[tuple[str, datetime]]:
        """Who approved ``request_id`` and when, first first."""
        rows = await self._ex.many(
            "SELECT reviewer, at FROM decisions WHERE request_id = ? AND decision = 'approve' ORDER BY at, reviewer",
            (request_id,),
        )
        return [(str(r["reviewer"]), from_utc_text(r["at"])) for r in rows]

    async def approvals_of(self, request_ids: Sequence[int]) -> dict[int, list[tuple[str, datetime]]]:
        """``approvals_at`` of each of ``request_ids``, in one statement."""
        rows = await _of_each(
            self._ex,
            "SELECT request_id, reviewer, at FROM decisions WHERE request_id IN ({marks}) AND decision = 'approve'"
            " ORDER BY request_id, at, reviewer",
            request_ids,
        )
        return {i: [(str(r["reviewer"]), from_utc_text(r["at"])) for r in found] for i, found in rows.items()}

    async def decided(self, request_id: int, reviewer: str) -> str | None:
        """What ``reviewer`` decided on ``request_id`` (approve | deny), or None."""
        row = await self._ex.one(
            "SELECT decision FROM decisions WHERE request_id = ? AND reviewer = ?", (request_id, reviewer)
        )
        return str(row["decision"]) if row else None

    async def all_of(self, request_id: int) -> list[tuple[str, str]]:
        """(reviewer, approve | deny) of every decision on ``request_id``, first first."""
        rows = await self._ex.many(
            "SELECT reviewer, decision FROM decisions WHERE request_id = ? ORDER BY at, reviewer", (request_id,)
        )
        return [(str(r["reviewer"]), str(r["decision"])) for r in rows]

    async def reason_of(self, request_id: int, reviewer: str) -> str | None:
        row = await self._ex.one(
            "SELECT reason FROM decisions WHERE request_id = ? AND reviewer = ?", (request_id, reviewer)
        )
        return row["reason"] if row else None

    async def approvers(self, request_id: int) -> list[str]:
        rows = await self._ex.many(
            "SELECT reviewer FROM decisions WHERE request_id = ? AND decision = 'approve' ORDER BY at, reviewer",
            (request_id,),
        )
        return [str(r["reviewer"]) for r in rows]


async def _of_each(ex: Executor, sql: str, request_ids: Sequence[int]) -> dict[int, list[Row]]:
    """The rows of ``sql`` (its ``{marks}`` filled with one mark per id) by request, in their
    order; every id has its list, empty when none matched."""
    found: dict[int, list[Row]] = {i: [] for i in request_ids}
    if request_ids:
        marks = ", ".join("?" for _ in request_ids)
        for r in await ex.many(sql.format(marks=marks), tuple(request_ids)):
            found[int(r["request_id"])].append(r)
    return found

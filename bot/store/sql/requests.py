"""Requests: insert, compare-and-set outcomes, and the lists people read.

Who reviews a request is kept only in ``assignments``; a request's ``reviewer`` is its
latest assignment that was not moved to someone else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.models import BreakGlass, ChangeRequest, Draft, FinalReason, NewRequest, Status, Verdict
from bot.domain.plan_summary import from_stored
from bot.domain.request_fields import FIELDS, Field, FieldKind
from bot.domain.timestamps import from_utc_text, opt_from_utc_text, utc_text
from bot.store.executor import ChangeLog, Executor, Row

_LATEST = (
    "SELECT a.{col} FROM assignments a WHERE a.request_id = r.id AND a.moved = 0"
    " ORDER BY a.assigned_at DESC, a.reviewer LIMIT 1"
)
_DRAFT = ", ".join(f"r.{f.stored_as}" for f in FIELDS)
_COLUMNS = (
    f"SELECT r.id, r.requester, {_DRAFT}, r.source, r.pipeline, r.status, r.sign_off_required, r.policy_reason,"
    " r.approvals_needed, r.decided_by, r.decided_at, r.reason, r.created_at, r.updated_at,"
    " r.break_glass_reason, r.break_glass_verdict, r.break_glass_reviewed_by, r.break_glass_note,"
    " r.break_glass_reviewed_at, r.final_reason, r.used_by_run,"
    " (SELECT COUNT(*) FROM decisions d WHERE d.request_id = r.id AND d.decision = 'approve') AS approvals,"
    f" ({_LATEST.format(col='reviewer')}) AS reviewer, ({_LATEST.format(col='assigned_at')}) AS assigned_at"
)
_SELECT = f"{_COLUMNS} FROM requests r"
# Changes to one request take this shared; what moves many requests at once (sweeps, reviews
# following the roster) takes it alone, so the two never wait on each other's rows in a cycle.
ROUTING_LOCK = "routing"
_INSERT_DRAFT = ", ".join(f.stored_as for f in FIELDS)
_INSERT_MARKS = ", ".join("?" for _ in FIELDS)
_QUEUE = "r.status = 'pending' AND r.id IN (SELECT request_id FROM assignments WHERE reviewer = ? AND active = 1)"


def _to_column(field: Field, value: Any) -> Any:
    if field.kind is FieldKind.YES_NO:
        return int(value)
    if field.kind is FieldKind.MAYBE:
        return None if value is None else int(value)
    if field.kind is FieldKind.PEOPLE:
        return json.dumps(list(value))
    if field.kind is FieldKind.PLAN_SUMMARY:
        return None if value is None else json.dumps(value.to_json(), sort_keys=True)
    return value


def _from_column(field: Field, value: Any) -> Any:
    if field.kind is FieldKind.YES_NO:
        return bool(value)
    if field.kind is FieldKind.MAYBE:
        return None if value is None else bool(value)
    if field.kind is FieldKind.PEOPLE:
        return tuple(json.loads(value))
    if field.kind is FieldKind.PLAN_SUMMARY:
        return None if value is None else from_stored(json.loads(value))
    return value


def request_from_row(r: Row) -> ChangeRequest:
    draft = Draft(**{f.name: _from_column(f, r[f.stored_as]) for f in FIELDS})
    return ChangeRequest(
        id=int(r["id"]),
        requester=r["requester"],
        draft=draft,
        status=Status(r["status"]),
        sign_off_required=bool(r["sign_off_required"]),
        policy_reason=r["policy_reason"],
        approvals_needed=int(r["approvals_needed"]),
        created_at=from_utc_text(r["created_at"]),
        updated_at=from_utc_text(r["updated_at"]),
        source=r["source"],
        pipeline=r["pipeline"],
        reviewer=r["reviewer"],
        assigned_at=opt_from_utc_text(r["assigned_at"]),
        decided_by=r["decided_by"],
        decided_at=opt_from_utc_text(r["decided_at"]),
        reason=r["reason"],
        approvals=int(r["approvals"] or 0),
        break_glass=_break_glass(r),
        final_reason=FinalReason(r["final_reason"]) if r["final_reason"] else None,
        used_by_run=r["used_by_run"],
    )


def _final_at_insert(status: Status, break_glass: str | None) -> str | None:
    if status is Status.PENDING:
        return None
    if break_glass is not None:
        return FinalReason.BREAK_GLASS.value
    return FinalReason.NOT_REQUIRED.value if status is Status.NOT_REQUIRED else status.value


def _break_glass(r: Row) -> BreakGlass | None:
    if r["break_glass_reason"] is None:
        return None
    return BreakGlass(
        reason=r["break_glass_reason"],
        verdict=Verdict(r["break_glass_verdict"]),
        reviewed_by=r["break_glass_reviewed_by"],
        note=r["break_glass_note"],
        reviewed_at=opt_from_utc_text(r["break_glass_reviewed_at"]),
    )


class Requests:
    def __init__(self, ex: Executor, log: ChangeLog) -> None:
        self._ex = ex
        self._log = log

    async def insert(self, new: NewRequest) -> int:
        """A new request; a break-glass one is inserted approved (by ``decided_by``), its review pending."""
        await self._ex.lock(ROUTING_LOCK, shared=True)
        stamp = utc_text(new.now)
        draft, break_glass, decided_by = new.draft, new.break_glass, new.decided_by
        row = await self._ex.one(
            f"INSERT INTO requests (requester, {_INSERT_DRAFT}, source, pipeline, status, sign_off_required,"
            " policy_reason, approvals_needed, created_at, updated_at, idempotency_key, idempotency_hash,"
            " break_glass_reason, break_glass_verdict, decided_by, decided_at, seconds_to_decision, final_reason)"
            f" VALUES (?, {_INSERT_MARKS}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                new.requester,
                *(_to_column(f, getattr(draft, f.name)) for f in FIELDS),
                new.source,
                new.pipeline,
                new.status.value,
                int(new.required),
                new.policy_reason,
                new.approvals_needed,
                stamp,
                stamp,
                new.idempotency_key,
                new.idempotency_hash,
                break_glass,
                None if break_glass is None else Verdict.PENDING.value,
                decided_by,
                stamp if decided_by else None,
                0 if decided_by else None,
                _final_at_insert(new.status, break_glass),
            ),
        )
        assert row is not None
        request_id = int(row["id"])
        self._log.requests.add(request_id)
        return request_id

    async def get_for_update(self, request_id: int) -> ChangeRequest | None:
        """The request, locked until this transaction ends (PostgreSQL; SQLite has one writer).

        The lock is taken by a statement of its own, and the request (with its approvals and
        reviewers) is read by the next one. Under READ COMMITTED each statement sees what was
        committed before it began, so the read sees everything a transaction that held the lock
        before us committed: a concurrent approval's decision row included. Reading in the locking
        statement itself would count approvals from before the wait for the lock, and two seniors
        approving at once would each see the other's approval missing."""
        await self._ex.lock(ROUTING_LOCK, shared=True)
        await self._ex.send("SELECT id FROM requests WHERE id = ? FOR UPDATE", (request_id,))
        return await self.get(request_id)

    async def lock_routing(self) -> None:
        """Hold the routing lock shared to commit, before reading who may review: a change of who is
        away (which holds it exclusively) is then either wholly before this read or wholly after
        this transaction."""
        await self._ex.lock(ROUTING_LOCK, shared=True)

    async def lock_all(self) -> None:
        """Be the only transaction changing requests and reviews until commit (sweeps that move many)."""
        await self._ex.lock(ROUTING_LOCK)

    async def get(self, request_id: int) -> ChangeRequest | None:
        """Read without locking (reads, and after ``get_for_update`` in the same transaction)."""
        row = await self._ex.one(f"{_SELECT} WHERE r.id = ?", (request_id,))
        return request_from_row(row) if row else None

    async def many(self, request_ids: Sequence[int]) -> dict[int, ChangeRequest]:
        """The requests of ``request_ids`` that exist, in one statement."""
        if not request_ids:
            return {}
        marks = ", ".join("?" for _ in request_ids)
        rows = await self._ex.many(f"{_SELECT} WHERE r.id IN ({marks})", tuple(request_ids))
        return {req.id: req for req in map(request_from_row, rows)}

    async def by_idempotency_key(self, key: str) -> tuple[ChangeRequest, str | None] | None:
        await self._ex.lock(f"idempotency:{key}")  # two replicas given one key at once: one creates
        row = await self._ex.one(
            f"{_COLUMNS}, r.idempotency_hash AS h FROM requests r WHERE r.idempotency_key = ?", (key,)
        )
        return (request_from_row(row), row["h"]) if row else None

    async def pending(self, limit: int) -> list[ChangeRequest]:
        rows = await self._ex.many(
            f"{_SELECT} WHERE r.status = 'pending' ORDER BY r.created_at, r.id LIMIT ?", (limit,)
        )
        return [request_from_row(r) for r in rows]

    async def count_pending(self) -> int:
        return await self._count("r.status = 'pending'", ())

    async def pending_ids(self, limit: int) -> list[int]:
        """Up to ``limit`` pending requests, oldest first."""
        rows = await self._ex.many(
            "SELECT id FROM requests WHERE status = 'pending' ORDER BY created_at, id LIMIT ?", (limit,)
        )
        return [int(r["id"]) for r in rows]

    async def queue_of(self, reviewer: str, limit: int) -> list[ChangeRequest]:
        """Pending requests ``reviewer`` may decide now, oldest first."""
        rows = await self._ex.many(f"{_SELECT} WHERE {_QUEUE} ORDER BY r.created_at, r.id LIMIT ?", (reviewer, limit))
        return [request_from_row(r) for r in rows]

    async def count_queue_of(self, reviewer: str) -> int:
        return await self._count(_QUEUE, (reviewer,))

    async def asked_by(self, requester: str, limit: int, pending_only: bool = False) -> list[ChangeRequest]:
        """``requester``'s requests, newest first."""
        where = "r.requester = ?" + (" AND r.status = 'pending'" if pending_only else "")
        rows = await self._ex.many(f"{_SELECT} WHERE {where} ORDER BY r.id DESC LIMIT ?", (requester, limit))
        return [request_from_row(r) for r in rows]

    async def count_asked_by(self, requester: str, pending_only: bool = False) -> int:
        where = "r.requester = ?" + (" AND r.status = 'pending'" if pending_only else "")
        return await self._count(where, (requester,))

    async def decided_by(self, reviewer: str, since: datetime, limit: int) -> list[tuple[ChangeRequest, str, str]]:
        """What ``reviewer`` approved or denied since ``since``, newest first: each request with
        their vote ("approve" or "deny") and the reason they gave."""
        rows = await self._ex.many(
            f"{_COLUMNS}, d.decision AS vote, d.reason AS vote_reason FROM decisions d"
            " JOIN requests r ON r.id = d.request_id WHERE d.reviewer = ? AND d.at >= ?"
            " ORDER BY d.at DESC, d.request_id DESC LIMIT ?",
            (reviewer, utc_text(since), limit),
        )
        return [(request_from_row(r), str(r["vote"]), str(r["vote_reason"] or "")) for r in rows]

    async def _count(self, where: str, params: tuple[str, ...]) -> int:
        row = await self._ex.one(f"SELECT COUNT(*) AS n FROM requests r WHERE {where}", params)
        return int(row["n"]) if row else 0

    async def set_outcome(
        self,
        request_id: int,
        *,
        status: Status,
        now: datetime,
        requested_at: datetime,
        final: FinalReason,
        decided_by: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Compare-and-set from pending to a final status. False if the request had moved on.

        The request's assignments stop being open reviews; ``requested_at`` gives the time it waited."""
        stamp = utc_text(now)
        waited = max(0, round((now - requested_at).total_seconds()))
        changed = await self._ex.run(
            "UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, reason = ?, updated_at = ?,"
            " seconds_to_decision = ?, final_reason = ? WHERE id = ? AND status = 'pending'",
            (status.value, decided_by, stamp, reason, stamp, waited, final.value, request_id),
        )
        return await self._closed(request_id, changed)

    async def set_verdict(self, request_id: int, verdict: Verdict, by: str, note: str, now: datetime) -> bool:
        """Compare-and-set a break-glass review from pending to its verdict; False if already reviewed.
        The review's assignments close with it."""
        stamp = utc_text(now)
        changed = await self._ex.run(
            "UPDATE requests SET break_glass_verdict = ?, break_glass_reviewed_by = ?, break_glass_note = ?,"
            " break_glass_reviewed_at = ?, updated_at = ? WHERE id = ? AND break_glass_verdict = 'pending'",
            (verdict.value, by, note, stamp, stamp, request_id),
        )
        return await self._closed(request_id, changed)

    async def _closed(self, request_id: int, changed: int) -> bool:
        """After a compare-and-set to a final state: its open reviews close with it."""
        if changed != 1:
            return False
        await self._ex.send("UPDATE assignments SET active = 0 WHERE request_id = ? AND active = 1", (request_id,))
        self._log.requests.add(request_id)
        return True

    async def decisions_unapplied(self, limit: int) -> list[tuple[int, str]]:
        """Pending requests their decisions should have ended: (id, "approvals_met" | "denial_unapplied").
        None exist unless a decision path has a bug; the consistency check looks for them."""
        rows = await self._ex.many(
            "SELECT id, CASE WHEN denials > 0 THEN 'denial_unapplied' ELSE 'approvals_met' END AS kind FROM ("
            " SELECT r.id AS id, r.approvals_needed AS needed,"
            " (SELECT COUNT(*) FROM decisions d WHERE d.request_id = r.id AND d.decision = 'approve') AS approvals,"
            " (SELECT COUNT(*) FROM decisions d WHERE d.request_id = r.id AND d.decision = 'deny') AS denials"
            " FROM requests r WHERE r.status = 'pending') AS x"
            " WHERE denials > 0 OR approvals >= needed ORDER BY id LIMIT ?",
            (limit,),
        )
        return [(int(r["id"]), str(r["kind"])) for r in rows]

    async def seats_unfilled(self, limit: int) -> list[int]:
        """Open requests (or break-glass reviews) with fewer reviewers than they need and no Claim
        post ever queued: nobody would ever be asked. None exist unless routing has a bug."""
        rows = await self._ex.many(
            "SELECT id FROM ("
            " SELECT r.id AS id, CASE WHEN r.status = 'pending' THEN r.approvals_needed"
            "   - (SELECT COUNT(*) FROM decisions d WHERE d.request_id = r.id AND d.decision = 'approve')"
            "   ELSE 1 END"
            "  - (SELECT COUNT(*) FROM assignments a WHERE a.request_id = r.id AND a.active = 1) AS seats"
            " FROM requests r WHERE r.status = 'pending' OR r.break_glass_verdict = 'pending') AS x"
            " WHERE seats > 0 AND NOT EXISTS"
            " (SELECT 1 FROM outbox o WHERE o.request_id = x.id AND o.kind = 'claim_post') ORDER BY id LIMIT ?",
            (limit,),
        )
        return [int(r["id"]) for r in rows]

    async def lock_break_glass(self, requester: str) -> None:
        """Hold ``requester``'s break-glass lock to commit: the count of their uses that follows, in
        a statement of its own, sees every use committed by a transaction that held it before."""
        await self._ex.lock(f"break-glass:{requester}")

    async def break_glass_since(self, requester: str, since: datetime) -> list[ChangeRequest]:
        """``requester``'s break-glass requests made since ``since``, oldest first."""
        rows = await self._ex.many(
            f"{_SELECT} WHERE r.requester = ? AND r.break_glass_reason IS NOT NULL AND r.created_at >= ?"
            " ORDER BY r.created_at, r.id",
            (requester, utc_text(since)),
        )
        return [request_from_row(r) for r in rows]

    async def awaiting_review_after_the_fact(self, limit: int) -> list[ChangeRequest]:
        """Break-glass changes not yet reviewed after the fact, oldest first."""
        rows = await self._ex.many(
            f"{_SELECT} WHERE r.break_glass_verdict = 'pending' ORDER BY r.created_at, r.id LIMIT ?", (limit,)
        )
        return [request_from_row(r) for r in rows]

    async def count_awaiting_review_after_the_fact(self) -> int:
        return await self._count("r.break_glass_verdict = 'pending'", ())

    async def use_up(self, request_id: int, run: str, now: datetime) -> str | None:
        """Use the approval up for the CI run ``run`` (a compare-and-set: the first run wins, and the
        same run may verify again). Returns the run that holds it: ``run`` when this one does."""
        await self._ex.send(
            "UPDATE requests SET used_by_run = ?, used_at = ? WHERE id = ? AND used_by_run IS NULL",
            (run, utc_text(now), request_id),
        )
        row = await self._ex.one("SELECT used_by_run FROM requests WHERE id = ?", (request_id,))
        return str(row["used_by_run"]) if row and row["used_by_run"] else None

    async def pending_before(self, cutoff: datetime, limit: int) -> list[int]:
        """Up to ``limit`` pending requests made at or before ``cutoff``, oldest first."""
        rows = await self._ex.many(
            "SELECT id FROM requests WHERE status = 'pending' AND created_at <= ? ORDER BY created_at, id LIMIT ?",
            (utc_text(cutoff), limit),
        )
        return [int(r["id"]) for r in rows]

    async def require_approvals(self, request_id: int, approvals: int) -> None:
        await self._ex.send("UPDATE requests SET approvals_needed = ? WHERE id = ?", (approvals, request_id))
        self._log.requests.add(request_id)

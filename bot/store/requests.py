"""Queries on requests, assignments, decisions and availability."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from bot.domain.models import ChangeRequest, Draft, Status
from bot.store.db import Conn, Database, Row, from_db, many, one, opt_from_db, to_db

_COLUMNS = (
    "id, requester, title, url, description, service, environment, ai_assisted, ai_tool, authors,"
    " commit_sha, source, pipeline, status, sign_off_required, policy_reason, approvals_needed,"
    " reviewer, assigned_at, decided_by, decided_at, reason, created_at, updated_at"
)


def _from_row(r: Row) -> ChangeRequest:
    draft = Draft(
        title=r["title"],
        url=r["url"],
        ai_assisted=bool(r["ai_assisted"]),
        description=r["description"],
        service=r["service"],
        environment=r["environment"],
        ai_tool=r["ai_tool"],
        authors=tuple(json.loads(r["authors"])),
        commit=r["commit_sha"],
    )
    return ChangeRequest(
        id=int(r["id"]),
        requester=r["requester"],
        draft=draft,
        status=Status(r["status"]),
        sign_off_required=bool(r["sign_off_required"]),
        policy_reason=r["policy_reason"],
        approvals_needed=int(r["approvals_needed"]),
        created_at=from_db(r["created_at"]),
        updated_at=from_db(r["updated_at"]),
        source=r["source"],
        pipeline=r["pipeline"],
        reviewer=r["reviewer"],
        assigned_at=opt_from_db(r["assigned_at"]),
        decided_by=r["decided_by"],
        decided_at=opt_from_db(r["decided_at"]),
        reason=r["reason"],
    )


async def insert(
    conn: Conn,
    *,
    requester: str,
    draft: Draft,
    status: Status,
    required: bool,
    policy_reason: str,
    now: datetime,
    source: str,
    pipeline: str | None,
    idempotency_key: str | None,
    idempotency_hash: str | None,
    approvals_needed: int = 1,
    reviewer: str | None = None,
) -> int:
    """Insert a request; with ``reviewer``, its first assignment too."""
    stamp = to_db(now)
    cur = await conn.execute(
        "INSERT INTO requests (requester, title, url, description, service, environment, ai_assisted,"
        " ai_tool, authors, commit_sha, source, pipeline, status, sign_off_required, policy_reason,"
        " approvals_needed, created_at, updated_at, idempotency_key, idempotency_hash, reviewer, assigned_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            requester,
            draft.title,
            draft.url,
            draft.description,
            draft.service,
            draft.environment,
            int(draft.ai_assisted),
            draft.ai_tool,
            json.dumps(list(draft.authors)),
            draft.commit,
            source,
            pipeline,
            status.value,
            int(required),
            policy_reason,
            approvals_needed,
            stamp,
            stamp,
            idempotency_key,
            idempotency_hash,
            reviewer,
            stamp if reviewer else None,
        ),
    )
    assert cur.lastrowid is not None
    request_id = int(cur.lastrowid)
    if reviewer is not None:
        await conn.execute(
            "INSERT INTO assignments (request_id, reviewer, assigned_at, how, active) VALUES (?, ?, ?, 'routed', 1)",
            (request_id, reviewer, stamp),
        )
    return request_id


async def get(conn: Conn, request_id: int) -> ChangeRequest | None:
    row = await one(conn, f"SELECT {_COLUMNS} FROM requests WHERE id = ?", (request_id,))
    return _from_row(row) if row else None


async def read(db: Database, request_id: int) -> ChangeRequest | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM requests WHERE id = ?", (request_id,))
    return _from_row(row) if row else None


async def by_idempotency_key(conn: Conn, key: str) -> tuple[ChangeRequest, str | None] | None:
    row = await one(conn, f"SELECT {_COLUMNS}, idempotency_hash FROM requests WHERE idempotency_key = ?", (key,))
    return (_from_row(row), row["idempotency_hash"]) if row else None


async def list_where(
    db: Database, where: str, params: Iterable[Any], limit: int, order: str = "id"
) -> list[ChangeRequest]:
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM requests WHERE {where} ORDER BY {order} LIMIT ?", (*params, limit)
    )
    return [_from_row(r) for r in rows]


async def count_where(db: Database, where: str, params: Iterable[Any]) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) AS n FROM requests WHERE {where}", tuple(params))
    return int(row["n"]) if row else 0


async def set_outcome(
    conn: Conn,
    request_id: int,
    *,
    status: Status,
    now: datetime,
    decided_by: str | None = None,
    reason: str | None = None,
) -> bool:
    """Compare-and-set from pending to a final status. False if the request had moved on.

    The request's assignments stop being open reviews, so load counts stay index-only."""
    stamp = to_db(now)
    cur = await conn.execute(
        "UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, reason = ?, updated_at = ?"
        " WHERE id = ? AND status = 'pending'",
        (status.value, decided_by, stamp, reason, stamp, request_id),
    )
    if cur.rowcount != 1:
        return False
    await conn.execute("UPDATE assignments SET active = 0 WHERE request_id = ? AND active = 1", (request_id,))
    return True


async def assign(conn: Conn, request_id: int, reviewer: str, now: datetime, how: str) -> None:
    stamp = to_db(now)
    await conn.execute(
        "UPDATE requests SET reviewer = ?, assigned_at = ?, updated_at = ? WHERE id = ?",
        (reviewer, stamp, stamp, request_id),
    )
    await conn.execute(
        "INSERT INTO assignments (request_id, reviewer, assigned_at, how, active) VALUES (?, ?, ?, ?, 1)"
        " ON CONFLICT (request_id, reviewer) DO UPDATE SET active = 1, assigned_at = excluded.assigned_at,"
        " how = excluded.how",
        (request_id, reviewer, stamp, how),
    )


async def active_reviewers(conn: Conn, request_id: int) -> list[str]:
    rows = await many(
        conn, "SELECT reviewer FROM assignments WHERE request_id = ? AND active = 1 ORDER BY reviewer", (request_id,)
    )
    return [str(r["reviewer"]) for r in rows]


async def all_reviewers(db: Database, request_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT reviewer FROM assignments WHERE request_id = ? ORDER BY assigned_at", (request_id,)
    )
    return [str(r["reviewer"]) for r in rows]


async def record_decision(
    conn: Conn, request_id: int, reviewer: str, decision: str, reason: str | None, now: datetime
) -> bool:
    """False when this person already decided this request."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO decisions (request_id, reviewer, decision, reason, at) VALUES (?, ?, ?, ?, ?)",
        (request_id, reviewer, decision, reason, to_db(now)),
    )
    return cur.rowcount == 1


async def approval_count(conn: Conn, request_id: int) -> int:
    row = await one(
        conn, "SELECT COUNT(*) AS n FROM decisions WHERE request_id = ? AND decision = 'approve'", (request_id,)
    )
    return int(row["n"]) if row else 0


async def reviewer_load(conn: Conn, reviewers: Iterable[str]) -> tuple[dict[str, int], dict[str, datetime]]:
    """Open reviews of each given reviewer, and when each was last assigned anything.

    Read from reviewer_stats, which triggers keep in step with assignments, so the cost
    does not grow with the number of requests."""
    people = sorted(set(reviewers))
    if not people:
        return {}, {}
    marks = ", ".join("?" * len(people))
    rows = await many(
        conn, f"SELECT reviewer, open, last_assigned_at FROM reviewer_stats WHERE reviewer IN ({marks})", people
    )
    return (
        {str(r["reviewer"]): int(r["open"]) for r in rows if r["open"]},
        {str(r["reviewer"]): from_db(r["last_assigned_at"]) for r in rows if r["last_assigned_at"]},
    )


async def away_users(conn: Conn) -> set[str]:
    """Who may not be asked to review now: away, or deactivated in Slack."""
    rows = await many(conn, "SELECT user FROM availability WHERE away = 1 OR deactivated = 1")
    return {str(r["user"]) for r in rows}


async def delegates(conn: Conn) -> dict[str, str]:
    """Away reviewer -> the senior they asked to take their new reviews."""
    rows = await many(conn, "SELECT user, delegate FROM availability WHERE away = 1 AND delegate IS NOT NULL")
    return {str(r["user"]): str(r["delegate"]) for r in rows}


async def set_away(
    conn: Conn, user: str, away: bool, now: datetime, until: datetime | None = None, delegate: str | None = None
) -> bool:
    """Returns True when the stored availability changed."""
    until_text = to_db(until) if away and until is not None else None
    delegate = delegate if away else None
    row = await one(conn, "SELECT away, away_until, delegate FROM availability WHERE user = ?", (user,))
    if row is not None and (bool(row["away"]), row["away_until"], row["delegate"]) == (away, until_text, delegate):
        return False
    await conn.execute(
        "INSERT INTO availability (user, away, away_until, delegate, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user) DO UPDATE SET away = excluded.away, away_until = excluded.away_until,"
        " delegate = excluded.delegate, updated_at = excluded.updated_at",
        (user, int(away), until_text, delegate, to_db(now)),
    )
    return True


async def set_deactivated(conn: Conn, user: str, deactivated: bool, now: datetime) -> bool:
    """Slack says this person is deactivated (or back); True when that changed what is stored."""
    row = await one(conn, "SELECT deactivated FROM availability WHERE user = ?", (user,))
    if (bool(row["deactivated"]) if row is not None else False) == deactivated:
        return False
    await conn.execute(
        "INSERT INTO availability (user, away, deactivated, updated_at) VALUES (?, 0, ?, ?)"
        " ON CONFLICT (user) DO UPDATE SET deactivated = excluded.deactivated, updated_at = excluded.updated_at",
        (user, int(deactivated), to_db(now)),
    )
    return True


async def back_due(conn: Conn, now: datetime) -> list[str]:
    """Away people whose end has come."""
    rows = await many(
        conn,
        "SELECT user FROM availability WHERE away = 1 AND away_until IS NOT NULL AND away_until <= ?",
        (to_db(now),),
    )
    return [str(r["user"]) for r in rows]


async def reviews_held_outside(conn: Conn, allowed: Collection[str]) -> list[tuple[int, str]]:
    """(request, reviewer) of every active assignment of a pending request whose reviewer is not
    in ``allowed``: only those rows are read, however many reviews are open."""
    people = sorted(set(allowed))
    outside = f" AND a.reviewer NOT IN ({', '.join('?' * len(people))})" if people else ""
    rows = await many(
        conn,
        "SELECT a.request_id AS request_id, a.reviewer AS reviewer FROM assignments a"
        " JOIN requests r ON r.id = a.request_id WHERE a.active = 1 AND r.status = 'pending'"
        f"{outside} ORDER BY a.request_id, a.reviewer",
        people,
    )
    return [(int(r["request_id"]), str(r["reviewer"])) for r in rows]


async def approvers(db: Database, request_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT reviewer FROM decisions WHERE request_id = ? AND decision = 'approve' ORDER BY at", (request_id,)
    )
    return [str(r["reviewer"]) for r in rows]


async def all_active(db: Database, request_id: int) -> set[str]:
    rows = await db.fetchall("SELECT reviewer FROM assignments WHERE request_id = ? AND active = 1", (request_id,))
    return {str(r["reviewer"]) for r in rows}

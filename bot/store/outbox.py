"""Outbox rows: notifications committed with the state change, delivered later."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.store.db import Conn, Database, Row, from_db, many, to_db


@dataclass(frozen=True)
class Notice:
    """A notification to deliver. ``kind`` names what to render; Slack details live in bot/slack."""

    kind: str
    request_id: int | None = None
    recipient: str | None = None
    data: dict[str, Any] | None = None


IN_FLIGHT = "in flight"
AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    request_id: int | None
    recipient: str | None
    data: dict[str, Any]
    attempts: int
    created_at: datetime
    last_error: str | None = None

    @property
    def maybe_delivered(self) -> bool:
        """An earlier attempt may have reached Slack without us hearing back (a crash, a lost response)."""
        return self.last_error is not None and self.last_error.startswith((IN_FLIGHT, AMBIGUOUS))


async def enqueue(conn: Conn, now: datetime, notice: Notice) -> None:
    await enqueue_many(conn, now, [notice])


async def enqueue_many(conn: Conn, now: datetime, notices: list[Notice]) -> None:
    """Queue notices inside the caller's transaction, in order, in one statement."""
    stamp = to_db(now)
    await conn.executemany(
        "INSERT INTO outbox (kind, request_id, recipient, data, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(n.kind, n.request_id, n.recipient, json.dumps(n.data or {}), stamp, stamp) for n in notices],
    )


def _row(r: Row) -> OutboxRow:
    return OutboxRow(
        id=int(r["id"]),
        kind=str(r["kind"]),
        request_id=r["request_id"],
        recipient=r["recipient"],
        data=json.loads(r["data"]),
        attempts=int(r["attempts"]),
        created_at=from_db(r["created_at"]),
        last_error=r["last_error"],
    )


async def next_due_at(db: Database) -> datetime | None:
    row = await db.fetchone("SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'")
    return from_db(row["t"]) if row and row["t"] else None


async def claim_due(db: Database, now: datetime, lease: timedelta, limit: int) -> list[OutboxRow]:
    """Take up to ``limit`` due rows for one attempt each, in one transaction, so no other
    worker (of any process) takes them. A crashed worker's lease runs out and its rows are
    due again, marked as possibly delivered. Rows come back as they were before the claim."""
    async with db.transaction() as conn:
        found = await many(
            conn,
            "SELECT id, kind, request_id, recipient, data, attempts, created_at, last_error"
            " FROM outbox INDEXED BY outbox_pending"
            " WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (to_db(now), limit),
        )
        await conn.executemany(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
            [(to_db(now + lease), IN_FLIGHT, r["id"]) for r in found],
        )
    return [_row(r) for r in found]


@dataclass(frozen=True)
class Outcome:
    row_id: int
    status: str  # sent | retry | failed
    retry_at: datetime | None = None
    error: str | None = None


async def record(db: Database, now: datetime, outcomes: list[Outcome]) -> None:
    """Write the result of every attempt of a batch in one transaction."""
    async with db.transaction() as conn:
        await conn.executemany(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL"
            " WHERE id = ? AND status = 'pending'",
            [(to_db(now), o.row_id) for o in outcomes if o.status == "sent"],
        )
        await conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE id = ? AND status = 'pending'",
            [(to_db(o.retry_at or now), (o.error or "")[:500], o.row_id) for o in outcomes if o.status == "retry"],
        )
        await conn.executemany(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ? AND status = 'pending'",
            [((o.error or "")[:500], o.row_id) for o in outcomes if o.status == "failed"],
        )


async def release_claims(db: Database, now: datetime) -> int:
    """At start: rows claimed by a process that died are due again at once (and checked
    for an earlier delivery before any post), instead of waiting out their lease."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND last_error = ? AND next_attempt_at > ?",
            (to_db(now), IN_FLIGHT, to_db(now)),
        )
        return cur.rowcount


async def save_message(db: Database, key: str, channel: str, ts: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO slack_messages (key, channel, ts) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
            (key, channel, ts),
        )


async def messages_with_prefix(db: Database, prefix: str) -> list[tuple[str, str, str]]:
    rows = await db.fetchall(
        "SELECT key, channel, ts FROM slack_messages WHERE key >= ? AND key < ? ORDER BY key",
        (prefix, prefix + "\uffff"),
    )
    return [(str(r["key"]), str(r["channel"]), str(r["ts"])) for r in rows]

"""Outbox rows: notifications committed with the state change, delivered later."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.store.db import Conn, Database, Row, from_db, many, one, to_db


@dataclass(frozen=True)
class Notice:
    """A notification to deliver. ``kind`` names what to render; Slack details live in bot/slack."""

    kind: str
    request_id: int | None = None
    recipient: str | None = None
    data: dict[str, Any] | None = None


IN_FLIGHT = "in flight"
AMBIGUOUS = "ambiguous"
SLACK_DOWN = "slack down"  # a 5xx or a transient error: retried early once Slack answers again
# Rows waiting out a backoff because Slack did not answer properly (not a 429, not a permanent error).
_WAITING_ON_SLACK = f"(last_error LIKE '{SLACK_DOWN}%' OR last_error LIKE '{AMBIGUOUS}%')"


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


async def claim_due(db: Database, now: datetime, lease: timedelta, limit: int, owner: str) -> list[OutboxRow]:
    """Take up to ``limit`` due rows for one attempt each, in one transaction, so no other
    worker (of any process) takes them. A crashed worker's lease runs out and its rows are
    due again, marked as possibly delivered. Rows come back as they were before the claim.

    A row whose request has an earlier pending row that is not due (it is waiting out a
    retry, or another worker holds it) is not taken: one request's messages go in order."""
    stamp = to_db(now)
    async with db.transaction(durable=False) as conn:
        found = await many(
            conn,
            "SELECT id, kind, request_id, recipient, data, attempts, created_at, last_error"
            " FROM outbox AS o INDEXED BY outbox_pending"
            " WHERE status = 'pending' AND next_attempt_at <= ?"
            " AND (request_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox AS e INDEXED BY outbox_request_order"
            "   WHERE e.request_id = o.request_id AND e.status = 'pending' AND e.id < o.id AND e.next_attempt_at > ?))"
            " ORDER BY id LIMIT ?",
            (stamp, stamp, limit),
        )
        await conn.executemany(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
            [(to_db(now + lease), f"{IN_FLIGHT} by {owner}", r["id"]) for r in found],
        )
    return [_row(r) for r in found]


async def renew_claims(db: Database, row_ids: list[int], until: datetime, owner: str) -> None:
    """Keep this worker's claims while it is still delivering them, so nobody else takes them."""
    if not row_ids:
        return
    async with db.transaction(durable=False) as conn:
        await conn.executemany(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND last_error = ?",
            [(to_db(until), row_id, f"{IN_FLIGHT} by {owner}") for row_id in row_ids],
        )


async def claim_owners(db: Database, now: datetime) -> set[str]:
    """Who holds live claims now (``host:pid`` of each claiming process)."""
    rows = await db.fetchall(
        "SELECT DISTINCT last_error FROM outbox INDEXED BY outbox_pending"
        " WHERE status = 'pending' AND next_attempt_at > ? AND last_error LIKE ?",
        (to_db(now), f"{IN_FLIGHT} by %"),
    )
    return {str(r["last_error"]).removeprefix(f"{IN_FLIGHT} by ") for r in rows}


async def release_claims_of(db: Database, now: datetime, owner: str) -> int:
    """Make a dead process's claims due now (they are checked for an earlier post before any retry)."""
    async with db.transaction(durable=False) as conn:
        cur = await conn.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND last_error = ? AND next_attempt_at > ?",
            (to_db(now), f"{IN_FLIGHT} by {owner}", to_db(now)),
        )
        return cur.rowcount


@dataclass(frozen=True)
class Outcome:
    row_id: int
    status: str  # sent | retry | failed | untried (an earlier message of its request must go first)
    retry_at: datetime | None = None
    error: str | None = None
    counts: bool = True  # False for a 429: waiting out Retry-After is not a failure


async def record(db: Database, now: datetime, outcomes: list[Outcome]) -> None:
    """Write the result of every attempt of a batch in one transaction.

    A message that went out shows Slack is answering again: rows waiting out a backoff
    after Slack-side failures are made due now, so a backlog drains at once, in order."""
    async with db.transaction(durable=False) as conn:
        await conn.executemany(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL"
            " WHERE id = ? AND status = 'pending'",
            [(to_db(now), o.row_id) for o in outcomes if o.status == "sent"],
        )
        await conn.executemany(
            "UPDATE outbox SET attempts = attempts + ?, next_attempt_at = ?, last_error = ?"
            " WHERE id = ? AND status = 'pending'",
            [
                (int(o.counts), to_db(o.retry_at or now), o.error[:500] if o.error is not None else None, o.row_id)
                for o in outcomes
                if o.status in ("retry", "untried")
            ],
        )
        await conn.executemany(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ? AND status = 'pending'",
            [((o.error or "")[:500], o.row_id) for o in outcomes if o.status == "failed"],
        )
        if any(o.status == "sent" for o in outcomes):
            await conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?"
                f" AND {_WAITING_ON_SLACK}",
                (to_db(now), to_db(now)),
            )


async def probe_slack(db: Database, now: datetime) -> bool:
    """While every row waits out a backoff, make the oldest one due now: it tells whether Slack is back."""
    async with db.transaction(durable=False) as conn:
        cur = await conn.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = (SELECT id FROM outbox INDEXED BY outbox_pending"
            f" WHERE status = 'pending' AND next_attempt_at > ? AND {_WAITING_ON_SLACK} ORDER BY id LIMIT 1)",
            (to_db(now), to_db(now)),
        )
        return cur.rowcount == 1


async def save_message(db: Database, key: str, channel: str, ts: str) -> None:
    async with db.transaction(durable=False) as conn:
        await conn.execute(
            "INSERT INTO slack_messages (key, channel, ts) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
            (key, channel, ts),
        )


async def where(conn: Conn, key: str) -> tuple[str, str] | None:
    """(channel, ts) of the message posted under ``key``, if it was."""
    row = await one(conn, "SELECT channel, ts FROM slack_messages WHERE key = ?", (key,))
    return (str(row["channel"]), str(row["ts"])) if row else None


async def messages_with_prefix(db: Database, prefix: str) -> list[tuple[str, str, str]]:
    rows = await db.fetchall(
        "SELECT key, channel, ts FROM slack_messages WHERE key >= ? AND key < ? ORDER BY key",
        (prefix, prefix + "\uffff"),
    )
    return [(str(r["key"]), str(r["channel"]), str(r["ts"])) for r in rows]

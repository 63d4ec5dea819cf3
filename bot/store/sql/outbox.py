"""Outbox rows (queued with the state change, delivered later) and where posted messages live.

A worker claims a row for one attempt: ``claimed_by`` names it and ``claim_expires_at`` ends the
claim; ``next_attempt_at`` moves with the claim, so a claimed row is not due for anyone else until
its claim runs out. Recording the attempt clears the claim; a row found claimed again after its
claim ran out may have been delivered (the worker died mid-call) and is checked first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain.outbox import Failure, Notice, OutboxRow, Outcome
from bot.domain.timestamps import from_utc_text, utc_text
from bot.store.executor import ChangeLog, Executor, Row

CLAIM_LOCK = "outbox-claim"
# Rows waiting out a backoff because Slack did not answer properly (not a 429, not a permanent error).
_WAITING_ON_SLACK = f"failure IN ('{Failure.SLACK_DOWN.value}', '{Failure.AMBIGUOUS.value}')"
_ROW = "id, kind, request_id, recipient, data, attempts, created_at, last_error, failure, claimed_by"


def _row(r: Row) -> OutboxRow:
    return OutboxRow(
        id=int(r["id"]),
        kind=str(r["kind"]),
        request_id=r["request_id"],
        recipient=r["recipient"],
        data=json.loads(r["data"]),
        attempts=int(r["attempts"]),
        created_at=from_utc_text(r["created_at"]),
        last_error=r["last_error"],
        failure=Failure(r["failure"]) if r["failure"] else None,
        claimed_by=r["claimed_by"],
    )


class Outbox:
    def __init__(self, ex: Executor, log: ChangeLog) -> None:
        self._ex = ex
        self._log = log

    async def enqueue(self, now: datetime, notice: Notice) -> None:
        await self.enqueue_many(now, [notice])

    async def enqueue_many(self, now: datetime, notices: list[Notice]) -> None:
        """Queue notices inside the caller's transaction, in order, in one statement."""
        if not notices:
            return
        stamp = utc_text(now)
        await self._ex.run_many(
            "INSERT INTO outbox (kind, request_id, recipient, data, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(n.kind, n.request_id, n.recipient, json.dumps(n.data or {}), stamp, stamp) for n in notices],
        )
        self._log.notices = True

    async def next_due_at(self) -> datetime | None:
        row = await self._ex.one("SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'")
        return from_utc_text(row["t"]) if row and row["t"] else None

    async def backlog(self) -> tuple[int, datetime | None]:
        """(pending rows, when the oldest was queued)."""
        row = await self._ex.one("SELECT COUNT(*) AS n, MIN(created_at) AS t FROM outbox WHERE status = 'pending'")
        if row is None or not row["n"]:
            return 0, None
        return int(row["n"]), from_utc_text(row["t"])

    async def claim_due(self, now: datetime, lease: timedelta, limit: int, owner: str) -> list[OutboxRow]:
        """Take up to ``limit`` due rows for one attempt each, so no other worker (of any process or
        replica) takes them. A crashed worker's claim runs out and its rows are due again, marked as
        possibly delivered. Rows come back as they were before the claim.

        A row whose request has an earlier pending row that is not due (waiting out a retry, or held
        by another worker) is not taken: one request's messages go in order. Claims are serialised
        across replicas (a claim is a few milliseconds) so that order holds; a worker that finds
        another replica claiming takes nothing this round."""
        if not await self._ex.try_lock(CLAIM_LOCK):
            return []
        stamp = utc_text(now)
        found = await self._ex.many(
            f"SELECT {_ROW} FROM outbox AS o INDEXED BY outbox_pending"
            " WHERE status = 'pending' AND next_attempt_at <= ?"
            " AND (request_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox AS e INDEXED BY outbox_request_order"
            "   WHERE e.request_id = o.request_id AND e.status = 'pending' AND e.id < o.id AND e.next_attempt_at > ?))"
            " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
            (stamp, stamp, limit),
        )
        until = utc_text(now + lease)
        await self._ex.run_many(
            "UPDATE outbox SET next_attempt_at = ?, claim_expires_at = ?, claimed_by = ? WHERE id = ?",
            [(until, until, owner, r["id"]) for r in found],
        )
        return [_row(r) for r in found]

    async def renew_claims(self, row_ids: list[int], until: datetime, owner: str) -> None:
        """Keep this worker's claims while it is still delivering them."""
        stamp = utc_text(until)
        await self._ex.run_many(
            "UPDATE outbox SET next_attempt_at = ?, claim_expires_at = ? WHERE id = ? AND status = 'pending'"
            " AND claimed_by = ?",
            [(stamp, stamp, row_id, owner) for row_id in row_ids],
        )

    async def claim_owners(self, now: datetime) -> set[str]:
        """Who holds live claims now (``host:pid:worker`` of each claiming worker)."""
        rows = await self._ex.many(
            "SELECT DISTINCT claimed_by FROM outbox INDEXED BY outbox_pending"
            " WHERE status = 'pending' AND next_attempt_at > ? AND claimed_by IS NOT NULL AND claim_expires_at > ?",
            (utc_text(now), utc_text(now)),
        )
        return {str(r["claimed_by"]) for r in rows}

    async def release_claims_of(self, now: datetime, owner: str) -> int:
        """Make a dead worker's claims due now (they are checked for an earlier post before any retry)."""
        stamp = utc_text(now)
        return await self._ex.run(
            "UPDATE outbox SET next_attempt_at = ?, claim_expires_at = ? WHERE status = 'pending' AND claimed_by = ?"
            " AND claim_expires_at > ?",
            (stamp, stamp, owner, stamp),
        )

    async def stale_claims(self, before: datetime, limit: int) -> list[tuple[int, str]]:
        """(row, owner) of pending rows whose claim ran out before ``before`` and that nobody took since."""
        rows = await self._ex.many(
            "SELECT id, claimed_by FROM outbox INDEXED BY outbox_pending WHERE status = 'pending'"
            " AND claimed_by IS NOT NULL AND claim_expires_at < ? ORDER BY id LIMIT ?",
            (utc_text(before), limit),
        )
        return [(int(r["id"]), str(r["claimed_by"])) for r in rows]

    async def release(self, row_id: int, now: datetime) -> bool:
        """A stale claim ends: the row is due now for any worker, marked as possibly delivered
        (it is checked for an earlier post before it is sent)."""
        changed = await self._ex.run(
            "UPDATE outbox SET next_attempt_at = ?, claimed_by = NULL, claim_expires_at = NULL,"
            f" failure = '{Failure.AMBIGUOUS.value}' WHERE id = ? AND status = 'pending' AND claimed_by IS NOT NULL",
            (utc_text(now), row_id),
        )
        return changed == 1

    async def record(self, now: datetime, outcomes: list[Outcome], owner: str) -> None:
        """Write the result of every attempt of a batch by ``owner``; each clears its claim. A try
        that failed is recorded only while ``owner`` still holds the claim: a replica whose lease
        ran out must not clear the claim of the one that took the row over. A message that went
        out is recorded whoever holds it now (it did go out; the new holder would find it).

        A message that went out shows Slack is answering again: rows waiting out a backoff
        after Slack-side failures are made due now, so a backlog drains at once, in order."""
        stamp = utc_text(now)
        sent = [(stamp, o.row_id) for o in outcomes if o.status == "sent"]
        if sent:
            await self._ex.run_many(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL,"
                " failure = NULL, claimed_by = NULL, claim_expires_at = NULL WHERE id = ? AND status = 'pending'",
                sent,
            )
        later = [
            (
                int(o.counts),
                utc_text(o.retry_at or now),
                o.error[:500] if o.error is not None else None,
                o.failure.value if o.failure is not None else None,
                o.row_id,
                owner,
            )
            for o in outcomes
            if o.status in ("retry", "untried")
        ]
        if later:
            await self._ex.run_many(
                "UPDATE outbox SET attempts = attempts + ?, next_attempt_at = ?, last_error = ?, failure = ?,"
                " claimed_by = NULL, claim_expires_at = NULL WHERE id = ? AND status = 'pending' AND claimed_by = ?",
                later,
            )
        failed = [((o.error or "")[:500], o.row_id, owner) for o in outcomes if o.status == "failed"]
        if failed:
            await self._ex.run_many(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                f" failure = '{Failure.PERMANENT.value}', claimed_by = NULL, claim_expires_at = NULL"
                " WHERE id = ? AND status = 'pending' AND claimed_by = ?",
                failed,
            )
        if sent:
            await self._ex.send(
                "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?"
                f" AND claimed_by IS NULL AND {_WAITING_ON_SLACK}",
                (stamp, stamp),
            )

    async def probe_slack(self, now: datetime) -> bool:
        """While every row waits out a backoff, make the oldest one due now: it tells whether Slack is back."""
        stamp = utc_text(now)
        changed = await self._ex.run(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = (SELECT id FROM outbox INDEXED BY outbox_pending"
            f" WHERE status = 'pending' AND next_attempt_at > ? AND claimed_by IS NULL AND {_WAITING_ON_SLACK}"
            " ORDER BY id LIMIT 1)",
            (stamp, stamp),
        )
        return changed == 1

    async def claim_post_queued(self, request_id: int) -> bool:
        """Whether a Claim post was ever queued for ``request_id`` (whatever became of it)."""
        row = await self._ex.one(
            "SELECT 1 AS one FROM outbox WHERE request_id = ? AND kind = 'claim_post' LIMIT 1", (request_id,)
        )
        return row is not None


class SlackMessages:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def save(self, key: str, channel: str, ts: str) -> None:
        await self._ex.send(
            "INSERT INTO slack_messages (key, channel, ts) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
            (key, channel, ts),
        )

    async def save_many(self, posted: Sequence[tuple[str, str, str]]) -> None:
        """``save`` for each (key, channel, ts), in one round trip."""
        await self._ex.run_many(
            "INSERT INTO slack_messages (key, channel, ts) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts",
            posted,
        )

    async def where(self, key: str) -> tuple[str, str] | None:
        """(channel, ts) of the message posted under ``key``, if it was."""
        row = await self._ex.one("SELECT channel, ts FROM slack_messages WHERE key = ?", (key,))
        return (str(row["channel"]), str(row["ts"])) if row else None

    async def under(self, prefixes: Sequence[str], keys: Sequence[str] = ()) -> list[tuple[str, str, str]]:
        """``with_prefix`` for each of ``prefixes`` and ``where`` for each of ``keys``, in one statement."""
        for prefix in prefixes:
            _check_prefix(prefix)
        if not prefixes and not keys:
            return []
        ranges = ["(key >= ? AND key < ?)"] * len(prefixes) + ["key = ?"] * len(keys)
        params = [bound for prefix in prefixes for bound in (prefix, prefix + "\uffff")] + list(keys)
        rows = await self._ex.many(
            f"SELECT key, channel, ts FROM slack_messages WHERE {' OR '.join(ranges)} ORDER BY key", params
        )
        return [(str(r["key"]), str(r["channel"]), str(r["ts"])) for r in rows]

    async def with_prefix(self, prefix: str) -> list[tuple[str, str, str]]:
        """(key, channel, ts) of every key under ``prefix``, which ends with ``:`` so that
        ``review:1:`` never finds ``review:10:…`` (for one key, ``where``)."""
        _check_prefix(prefix)
        rows = await self._ex.many(
            "SELECT key, channel, ts FROM slack_messages WHERE key >= ? AND key < ? ORDER BY key",
            (prefix, prefix + "\uffff"),
        )
        return [(str(r["key"]), str(r["channel"]), str(r["ts"])) for r in rows]


def _check_prefix(prefix: str) -> None:
    if not prefix.endswith(":"):
        raise ValueError(f"a key prefix ends with ':' ({prefix!r} would find other requests' keys)")

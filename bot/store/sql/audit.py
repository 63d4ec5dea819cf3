"""Appending to the hash-chained audit trail, and reading it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from bot.domain.audit import GENESIS, AuditEntry, ChainCheck, canonical, chain_hash, details_text
from bot.domain.timestamps import utc_text
from bot.store.executor import Executor

CHAIN_LOCK = "audit-chain"
_ROWS = "SELECT seq, at, actor, action, request_id, reason, details, prev_hash, hash FROM audit"


class AuditTrail:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex
        self._queued: list[tuple[datetime, AuditEntry]] = []

    async def append(self, at: datetime, entry: AuditEntry) -> None:
        """Add a row to the chain as part of the caller's transaction, in the order appended.

        The rows are written by ``flush``, which the store calls just before it commits: the
        chain's lock (which serialises appends across writers and replicas, so two transactions
        never chain from the same head) is then held only for the insert and the commit, and is
        always the last lock a transaction takes."""
        self._queued.append((at, entry))

    async def flush(self) -> None:
        if not self._queued:
            return
        await self._ex.lock(CHAIN_LOCK)
        last = await self._ex.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        seq = int(last["seq"]) if last else 0
        prev = str(last["hash"]) if last else GENESIS
        rows = []
        for at, entry in self._queued:
            seq += 1
            at_s = utc_text(at)
            details = details_text(entry.details)
            digest = chain_hash(
                prev, canonical(seq, at_s, entry.actor, entry.action, entry.request_id, entry.reason, details)
            )
            rows.append((seq, at_s, entry.actor, entry.action, entry.request_id, entry.reason, details, prev, digest))
            prev = digest
        self._queued = []
        await self._ex.run_many(
            "INSERT INTO audit (seq, at, actor, action, request_id, reason, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    async def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last row."""
        row = await self._ex.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return (int(row["seq"]), str(row["hash"])) if row else None

    async def rows(
        self, since: datetime | None = None, until: datetime | None = None, batch: int = 5000
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Every row (at in [since, until) when given) in seq order, as tuples in
        ``bot.domain.audit.COLUMNS`` order, read in batches."""
        after = 0
        where = ["seq > ?"]
        bounds: list[str] = []
        for op, when in ((">=", since), ("<", until)):
            if when is not None:
                where.append(f"at {op} ?")
                bounds.append(utc_text(when))
        sql = f"{_ROWS} WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
        while True:
            found = await self._ex.many(sql, (after, *bounds, batch))
            for r in found:
                yield (
                    int(r["seq"]),
                    r["at"],
                    r["actor"],
                    r["action"],
                    r["request_id"],
                    r["reason"],
                    r["details"],
                    r["prev_hash"],
                    r["hash"],
                )
            if len(found) < batch:
                return
            after = int(found[-1]["seq"])

    async def check(self) -> ChainCheck:
        """Verify the whole chain, read in batches (constant memory, however long the trail)."""
        check = ChainCheck()
        async for row in self.rows():
            if not check.add(row):
                break
        return check

    async def requests_changed_since(self, seq: int, limit: int = 10_000) -> tuple[int, set[int]]:
        """(the last seq read, the requests of audit rows after ``seq``): every change of a request
        writes a row, so this says which requests changed since then."""
        rows = await self._ex.many("SELECT seq, request_id FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        if not rows:
            return seq, set()
        return int(rows[-1]["seq"]), {int(r["request_id"]) for r in rows if r["request_id"] is not None}

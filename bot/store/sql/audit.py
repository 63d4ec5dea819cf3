"""Appending to the hash-chained audit trail, and reading it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from bot.domain.audit import (
    GENESIS,
    AuditEntry,
    ChainCheck,
    Sealed,
    Unsealed,
    canonical,
    chain_hash,
    details_text,
    row_hash,
)
from bot.domain.timestamps import from_utc_text, utc_text
from bot.store.executor import Executor

SEQUENCER_LOCK = "audit-sequencer"
_ROWS = "SELECT seq, at, actor, action, request_id, reason, details, prev_hash, hash FROM audit"
_HEAD = "SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
_UNSEALED = (
    "SELECT id, at, actor, action, request_id, reason, details, row_hash FROM audit"
    " WHERE seq IS NULL AND id > ? ORDER BY id LIMIT ?"
)


def _content(r: Any) -> tuple[Any, ...]:
    """An audit row's own content, as the hashes read it."""
    return (r["at"], r["actor"], r["action"], r["request_id"], r["reason"], r["details"])


def _changed(r: Any) -> bool:
    """Whether an unsealed row's content no longer matches its row_hash."""
    return bool(row_hash(*_content(r)) != r["row_hash"])


class AuditTrail:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex
        self._queued: list[tuple[datetime, AuditEntry]] = []

    async def append(self, at: datetime, entry: AuditEntry) -> None:
        """Add a row as part of the caller's transaction, in the order appended. The rows are
        written by ``flush``, which the store calls just before it commits: unsealed, so the
        transaction takes no lock for them; the sequencer (``seal``) chains them after."""
        self._queued.append((at, entry))

    async def flush(self) -> None:
        if not self._queued:
            return
        rows = []
        for at, entry in self._queued:
            at_s = utc_text(at)
            details = details_text(entry.details)
            digest = row_hash(at_s, entry.actor, entry.action, entry.request_id, entry.reason, details)
            rows.append((at_s, entry.actor, entry.action, entry.request_id, entry.reason, details, digest))
        self._queued = []
        await self._ex.run_many(
            "INSERT INTO audit (at, actor, action, request_id, reason, details, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    async def seal(self, limit: int) -> Sealed:
        """Chain up to ``limit`` committed unsealed rows, oldest first, onto the sealed head; one
        sequencer at a time (a try-lock: another one sealing means nothing to do here). A row
        whose content no longer matches its row_hash is not sealed, nor anything after it."""
        if not await self._ex.try_lock(SEQUENCER_LOCK):
            return Sealed(elsewhere=True)
        seq, prev = await self.head() or (0, GENESIS)
        updates = []
        changed = None
        for r in await self._ex.many(_UNSEALED, (0, limit)):
            if _changed(r):
                changed = int(r["id"])
                break
            seq += 1
            digest = chain_hash(prev, canonical(seq, *_content(r)))
            updates.append((seq, prev, digest, int(r["id"])))
            prev = digest
        await self._ex.run_many(
            "UPDATE audit SET seq = ?, prev_hash = ?, hash = ? WHERE id = ? AND seq IS NULL", updates
        )
        return Sealed(len(updates), changed=changed)

    async def unsealed(self) -> Unsealed:
        """How many rows wait for the sequencer, since when, and the first whose content changed."""
        row = await self._ex.one("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM audit WHERE seq IS NULL")
        if row is None or not row["n"]:
            return Unsealed()
        changed = None
        after = 0
        while changed is None:
            batch = await self._ex.many(_UNSEALED, (after, 5000))
            changed = next((int(r["id"]) for r in batch if _changed(r)), None)
            if len(batch) < 5000:
                break
            after = int(batch[-1]["id"])
        return Unsealed(int(row["n"]), from_utc_text(str(row["oldest"])), changed)

    async def any_unsealed(self) -> bool:
        return await self._ex.one("SELECT id FROM audit WHERE seq IS NULL LIMIT 1") is not None

    async def oldest_unsealed(self) -> datetime | None:
        row = await self._ex.one("SELECT MIN(at) AS oldest FROM audit WHERE seq IS NULL")
        return from_utc_text(str(row["oldest"])) if row and row["oldest"] else None

    async def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last sealed row."""
        row = await self._ex.one(_HEAD)
        return (int(row["seq"]), str(row["hash"])) if row else None

    async def rows(
        self, since: datetime | None = None, until: datetime | None = None, batch: int = 5000
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Every sealed row (at in [since, until) when given) in seq order, as tuples in
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
        """Verify the whole sealed chain, read in batches (constant memory, however long the trail)."""
        check = ChainCheck()
        async for row in self.rows():
            if not check.add(row):
                break
        return check

    async def requests_changed_since(self, seq: int, limit: int = 10_000) -> tuple[int, set[int]]:
        """(the last seq read, the requests of audit rows sealed after ``seq``): every change of a
        request writes a row, so this says which requests changed since then."""
        rows = await self._ex.many("SELECT seq, request_id FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        if not rows:
            return seq, set()
        return int(rows[-1]["seq"]), {int(r["request_id"]) for r in rows if r["request_id"] is not None}

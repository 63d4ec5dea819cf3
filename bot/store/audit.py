"""The append-only, hash-chained audit trail.

Each row's hash is sha256(prev_hash || canonical row), where the canonical row is
compact JSON with sorted keys. The first row chains from GENESIS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.db import Conn, one, to_db

GENESIS = "0" * 64


def canonical(
    seq: int, at: str, actor: str, action: str, request_id: int | None, reason: str | None, details: str
) -> bytes:
    row = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "request_id": request_id,
        "reason": reason,
        "details": details,
    }
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, payload: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    request_id: int | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None


async def append(conn: Conn, at: datetime, entry: AuditEntry) -> int:
    """Append one row inside the caller's transaction; returns its seq."""
    last = await one(conn, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    seq = (int(last["seq"]) if last else 0) + 1
    prev = str(last["hash"]) if last else GENESIS
    at_s = to_db(at)
    details = json.dumps(entry.details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = chain_hash(prev, canonical(seq, at_s, entry.actor, entry.action, entry.request_id, entry.reason, details))
    await conn.execute(
        "INSERT INTO audit (seq, at, actor, action, request_id, reason, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at_s, entry.actor, entry.action, entry.request_id, entry.reason, details, prev, digest),
    )
    return seq


COLUMNS = ("seq", "at", "actor", "action", "request_id", "reason", "details", "prev_hash", "hash")


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit row {self.seq}: {self.problem}"


def verify_rows(rows: Iterable[Sequence[Any]]) -> tuple[int, str, ChainBreak | None]:
    """Walk the chain in seq order: (rows checked, last hash, the first break or None)."""
    prev_hash, prev_seq, count = GENESIS, 0, 0
    for seq, at, actor, action, request_id, reason, details, row_prev, digest in rows:
        if seq != prev_seq + 1:
            return count, prev_hash, ChainBreak(prev_seq + 1, f"missing: the next row found is {seq}")
        if row_prev != prev_hash:
            return count, prev_hash, ChainBreak(seq, "prev_hash does not match the row before it")
        if chain_hash(prev_hash, canonical(seq, at, actor, action, request_id, reason, details)) != digest:
            return count, prev_hash, ChainBreak(seq, "its contents do not match its hash (the row was changed)")
        prev_hash, prev_seq, count = digest, seq, count + 1
    return count, prev_hash, None

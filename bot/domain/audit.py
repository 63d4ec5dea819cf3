"""The audit trail's rows and its hash chain, with no storage in sight.

Each row's hash is sha256(prev_hash || canonical row), where the canonical row is
compact JSON with sorted keys. The first row chains from GENESIS. Every backend stores
the same text, so a chain copied from one backend to another verifies unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
COLUMNS = ("seq", "at", "actor", "action", "request_id", "reason", "details", "prev_hash", "hash")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    request_id: int | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None


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


def details_text(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, payload: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


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

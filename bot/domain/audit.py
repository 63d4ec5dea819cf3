"""The audit trail's rows and its hash chain, with no storage in sight.

Each row's hash is sha256(prev_hash || canonical row), where the canonical row is
compact JSON with sorted keys. The first row chains from GENESIS. Every backend stores
the same text, so a chain copied from one backend to another verifies unchanged.

A row is written unsealed, with the transaction whose work it records: no seq and no chain
hash yet, only ``row_hash`` over its own content. The sequencer seals committed rows in order
shortly after (seq, prev_hash, hash), so no write transaction waits for the chain's head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class Sealed:
    """What one turn of the sequencer did."""

    rows: int = 0  # rows sealed
    elsewhere: bool = False  # another process was sealing: nothing was done here
    changed: int | None = None  # the id of an unsealed row whose content no longer matches its row_hash


@dataclass(frozen=True)
class Unsealed:
    rows: int = 0
    oldest: datetime | None = None  # when the oldest unsealed row was written
    changed: int | None = None  # the id of the first one whose content no longer matches its row_hash


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


def row_hash(at: str, actor: str, action: str, request_id: int | None, reason: str | None, details: str) -> str:
    """An unsealed row's hash of its own content: a row changed before it was sealed is found."""
    row = {"at": at, "actor": actor, "action": action, "request_id": request_id, "reason": reason, "details": details}
    return hashlib.sha256(
        json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


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


class ChainCheck:
    """Walks the chain one row at a time, in seq order, so a trail of any length is checked in
    constant memory: ``add`` each row until it returns False (the first break, in ``broken``)."""

    def __init__(self) -> None:
        self.count = 0  # rows that verified
        self.last = GENESIS  # the hash of the last row that verified
        self.broken: ChainBreak | None = None
        self._seq = 0

    def add(self, row: Sequence[Any]) -> bool:
        seq, at, actor, action, request_id, reason, details, row_prev, digest = row
        if seq != self._seq + 1:
            self.broken = ChainBreak(self._seq + 1, f"missing: the next row found is {seq}")
        elif row_prev != self.last:
            self.broken = ChainBreak(seq, "prev_hash does not match the row before it")
        elif chain_hash(self.last, canonical(seq, at, actor, action, request_id, reason, details)) != digest:
            self.broken = ChainBreak(seq, "its contents do not match its hash (the row was changed)")
        else:
            self.last, self._seq, self.count = digest, seq, self.count + 1
            return True
        return False


def verify_rows(rows: Iterable[Sequence[Any]]) -> tuple[int, str, ChainBreak | None]:
    """Walk the chain in seq order: (rows checked, last hash, the first break or None)."""
    check = ChainCheck()
    for row in rows:
        if not check.add(row):
            break
    return check.count, check.last, check.broken

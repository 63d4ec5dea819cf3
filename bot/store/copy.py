"""``signoff db copy``: everything from one database to another, e.g. SQLite to PostgreSQL.

The source is read in one snapshot (a running SQLite deployment keeps working while it is
read, but what it writes afterwards is not copied: stop it, copy, start on the target). The
target must be empty and is written in one transaction, so a failure halfway leaves it empty.
Audit rows are copied verbatim in order, so the chain verifies on the target unchanged.
``reviewer_stats`` is rebuilt by the target's own triggers as assignments arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.audit import ChainBreak
from bot.domain.errors import ConfigurationError
from bot.store.unit_of_work import Store

# Parents before children; each with its columns and the unique key that orders it (read in key order,
# a page at a time after the last key read, so a large table costs no more per page than a small one).
# fmt: off
TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("meta", ("key", "value"), ("key",)),
    (
        "requests",
        (
            "id",
            "requester",
            "title",
            "url",
            "description",
            "service",
            "environment",
            "ai_assisted",
            "ai_tool",
            "authors",
            "commit_sha",
            "source",
            "pipeline",
            "status",
            "sign_off_required",
            "policy_reason",
            "approvals_needed",
            "decided_by",
            "decided_at",
            "reason",
            "created_at",
            "updated_at",
            "idempotency_key",
            "idempotency_hash",
            "destructive",
            "plan_summary",
            "break_glass_reason",
            "break_glass_verdict",
            "break_glass_reviewed_by",
            "break_glass_note",
            "break_glass_reviewed_at",
        ),
        ("id",),
    ),
    ("assignments", ("request_id", "reviewer", "assigned_at", "how", "active", "reminded_at", "moved"),
     ("request_id", "reviewer")),
    ("decisions", ("request_id", "reviewer", "decision", "reason", "at"), ("request_id", "reviewer")),
    ("availability", ('"user"', "away", "updated_at", "away_until", "delegate", "deactivated"), ('"user"',)),
    ("audit", ("seq", "at", "actor", "action", "request_id", "reason", "details", "prev_hash", "hash"), ("seq",)),
    (
        "outbox",
        (
            "id",
            "kind",
            "request_id",
            "recipient",
            "data",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
        ),
        ("id",),
    ),
    ("slack_messages", ("key", "channel", "ts"), ("key",)),
    ("deliveries", ("key", "seen_at"), ("key",)),
    ("home_viewers", ('"user"', "opened_at"), ('"user"',)),
    ("workflow_steps", ("request_id", "execution_id"), ("request_id",)),
)
# fmt: on
BATCH = 2000


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]
    audit_rows: int
    audit_break: ChainBreak | None


async def copy_database(source: Store, target: Store, progress: Callable[[str, int], None]) -> Copied:
    """Copy every table; raise ConfigurationError if the target already holds anything."""
    async with target.read() as t:
        for table, _columns, _key in TABLES:
            if await t.copying.count(table):
                raise ConfigurationError(
                    "--to", f"the target database is not empty (its {table} table has rows); copy into a new database."
                )
    counts: dict[str, int] = {}
    async with source.read(snapshot=True) as s, target.write() as tx:
        for table, columns, key in TABLES:
            counts[table] = 0
            after: tuple[Any, ...] | None = None
            at_key = [columns.index(k) for k in key]
            while True:
                rows = await s.copying.page(table, columns, key, after, BATCH)
                if not rows:
                    break
                await tx.copying.insert(table, columns, rows)
                counts[table] += len(rows)
                after = tuple(rows[-1][i] for i in at_key)
            progress(table, counts[table])
        await tx.copying.after_copy()
    async with target.read(snapshot=True) as t:
        for table, _columns, _key in TABLES:
            found = await t.copying.count(table)
            if found != counts[table]:
                raise RuntimeError(f"{table}: copied {counts[table]} rows but the target holds {found}")
        check = await t.audit.check()
    return Copied(counts, check.count, check.broken)

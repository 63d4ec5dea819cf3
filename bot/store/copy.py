"""``signoff db copy``: everything from one database to another, e.g. SQLite to PostgreSQL.

The source is read in one snapshot (a running SQLite deployment keeps working while it is
read, but what it writes afterwards is not copied: stop it, copy, start on the target). The
target must be empty and is written in one transaction, so a failure halfway leaves it empty.
Audit rows are copied verbatim, the sealed ones in chain order first (the target's guard
accepts only a sealed row that extends its chain), so the chain verifies on the target
unchanged; unsealed ones follow, and the target's sequencer seals them.
What to copy comes from the live schema of both databases (``Store.schema``): every table with
data, parents before children, each in its primary key's order; ``reviewer_stats`` is rebuilt
by the target's own triggers as assignments arrive. Both must be at the same schema version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.audit import ChainBreak
from bot.domain.errors import ConfigurationError
from bot.store.sql.repositories import Copying
from bot.store.unit_of_work import Store

BATCH = 2000


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]
    audit_rows: int
    audit_break: ChainBreak | None


async def copy_database(
    source: Store,
    target: Store,
    progress: Callable[[str, int], None],
    then: Callable[[Store], Awaitable[object]] | None = None,
) -> Copied:
    """Copy every table; raise ConfigurationError if the target already holds anything. ``then``
    runs on the target after the copy, before its chain is checked (the sequencer's turn)."""
    tables = (await source.schema()).copy_order()
    theirs = (await target.schema()).tables
    for table in tables:
        other = theirs.get(table.name)
        if other is None or other.column_names != table.column_names:
            raise ConfigurationError(
                "--to",
                f"its {table.name} table does not match the source's; run `signoff db migrate` on both "
                "with the same signoff version first.",
            )
    async with target.read() as t:
        for table in tables:
            if await Copying(t.executor).count(table.name):
                raise ConfigurationError(
                    "--to",
                    f"the target database is not empty (its {table.name} table has rows); copy into a new database.",
                )
    counts: dict[str, int] = {}
    async with source.read(snapshot=True) as s, target.write() as tx:
        for table in tables:
            columns = tuple(_quoted(c) for c in table.column_names)
            counts[table.name] = 0
            for only, key in _passes(table.name, tuple(_quoted(c) for c in table.key) or columns):
                after: tuple[Any, ...] | None = None
                at_key = [columns.index(k) for k in key]
                while True:
                    rows = await Copying(s.executor).page(table.name, columns, key, after, BATCH, only)
                    if not rows:
                        break
                    await Copying(tx.executor).insert(table.name, columns, rows)
                    counts[table.name] += len(rows)
                    after = tuple(rows[-1][i] for i in at_key)
            progress(table.name, counts[table.name])
        await Copying(tx.executor).after_copy()
    if then is not None:
        await then(target)
    async with target.read(snapshot=True) as t:
        for table in tables:
            found = await Copying(t.executor).count(table.name)
            if found != counts[table.name]:
                raise RuntimeError(f"{table.name}: copied {counts[table.name]} rows but the target holds {found}")
        check = await t.audit.check()
    return Copied(counts, check.count, check.broken)


def _passes(table: str, key: tuple[str, ...]) -> list[tuple[str | None, tuple[str, ...]]]:
    """(condition, order) of each pass over a table: one, in key order, except for the audit
    trail: its sealed rows in chain order, then its unsealed rows in the order they were written."""
    if table == "audit":
        return [("seq IS NOT NULL", ("seq",)), ("seq IS NULL", ("id",))]
    return [(None, key)]


def _quoted(column: str) -> str:
    return f'"{column}"' if column == "user" else column  # "user" is a keyword on PostgreSQL

"""Whole-table reads and writes for ``signoff db copy`` (table and column names come from
``bot.store.copy.TABLES``, never from input)."""

from __future__ import annotations

from typing import Any

from bot.store.executor import Executor


class Copying:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def count(self, table: str) -> int:
        row = await self._ex.one(f"SELECT COUNT(*) AS n FROM {table}")
        return int(row["n"]) if row else 0

    async def page(
        self,
        table: str,
        columns: tuple[str, ...],
        key: tuple[str, ...],
        after: tuple[Any, ...] | None,
        limit: int,
        only: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows in ``key`` order, after the row whose key is ``after`` (from the
        start: None), of those matching the condition ``only`` if given."""
        names = [c.strip('"') for c in columns]
        order = ", ".join(key)
        conditions = [only] if only else []
        if after is not None:
            conditions.append(f"({order}) > ({', '.join('?' * len(key))})")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = await self._ex.many(
            f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY {order} LIMIT ?", (*(after or ()), limit)
        )
        return [tuple(r[n] for n in names) for r in rows]

    async def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        await self._ex.run_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def after_copy(self) -> None:
        """Identity columns continue after the copied ids (PostgreSQL; SQLite follows MAX(id) itself)."""
        await self._ex.restart_identities(("requests", "id"), ("outbox", "id"), ("audit", "id"))

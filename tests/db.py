"""Raw reads and writes for tests, straight through the database driver (as an operator with
sqlite3 or psql would), rows indexed by position or by name on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg


class _Row(tuple[Any, ...]):
    """Like sqlite3.Row: ``row[0]`` and ``row["name"]``."""

    names: list[str]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names.index(key))
        return super().__getitem__(key)


def _rows(url: str, sql: str, params: Sequence[Any]) -> list[Any]:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            return list(conn.execute(sql, tuple(params)).fetchall())
        finally:
            conn.close()
    with psycopg.connect(url) as pg:
        cur = pg.execute(sql.replace("?", "%s").encode(), tuple(params))
        names = [c.name for c in cur.description or []]
        found = []
        for values in cur.fetchall():
            row = _Row(values)
            row.names = names
            found.append(row)
        return found


def _write(url: str, sql: str, params: Sequence[Any]) -> None:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            conn.execute(sql, tuple(params))
            conn.commit()
        finally:
            conn.close()
        return
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(sql.replace("?", "%s").encode(), tuple(params))


async def fetchall(url: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return await asyncio.to_thread(_rows, url, sql, params)


async def fetchone(url: str, sql: str, params: Sequence[Any] = ()) -> Any:
    rows = await fetchall(url, sql, params)
    return rows[0] if rows else None


async def execute(url: str, sql: str, params: Sequence[Any] = ()) -> None:
    await asyncio.to_thread(_write, url, sql, params)

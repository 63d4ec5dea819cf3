"""The SQLite connection: WAL, busy_timeout, foreign keys, and write transactions.

One writer connection sits behind an asyncio lock; every write is ``BEGIN IMMEDIATE``
so that other processes on the same file queue on ``busy_timeout`` instead of failing.
Reads use a second connection and see the last committed state (WAL).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.migrations import migrate

BUSY_TIMEOUT_MS = 10_000

Conn = aiosqlite.Connection
Row = sqlite3.Row


def to_db(when: datetime) -> str:
    """UTC, fixed width, so text order is time order."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the trailing Z reads as UTC; much faster than strptime


def opt_from_db(text: str | None) -> datetime | None:
    return from_db(text) if text else None


async def _connect(path: str) -> Conn:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Database:
    def __init__(self, path: str) -> None:
        self.path = path
        self._writer: Conn | None = None
        self._reader: Conn | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _connect(self.path)
        await migrate(self._writer)
        self._reader = await _connect(self.path)

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """A write transaction. Commits on success, rolls back on any exception."""
        assert self._writer is not None, "Database.open() was not called"
        async with self._lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")

    async def write_one(self, sql: str, params: Iterable[Any] = ()) -> int:
        """A single-statement write, atomic on its own; returns the rows changed."""
        assert self._writer is not None, "Database.open() was not called"
        async with self._lock:
            cur = await self._writer.execute(sql, tuple(params))
            return int(cur.rowcount)

    async def checkpoint(self) -> None:
        """Fold the WAL back into the database file so it does not grow without bound."""
        async with self._lock:
            assert self._writer is not None
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        assert self._reader is not None, "Database.open() was not called"
        async with self._reader.execute(sql, tuple(params)) as cur:
            row: Row | None = await cur.fetchone()
            return row

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        assert self._reader is not None, "Database.open() was not called"
        async with self._reader.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())


async def one(conn: Conn, sql: str, params: Iterable[Any] = ()) -> Row | None:
    async with conn.execute(sql, tuple(params)) as cur:
        row: Row | None = await cur.fetchone()
        return row


async def many(conn: Conn, sql: str, params: Iterable[Any] = ()) -> list[Row]:
    async with conn.execute(sql, tuple(params)) as cur:
        return list(await cur.fetchall())

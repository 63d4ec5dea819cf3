"""SQLite's read path: a small pool of aiosqlite connections, each with a thread of its own.

Everything read through ``store.read()`` (a report over a year of requests, an export, a summary,
App Home, the long-poll change feed) runs in those threads, so however long a read takes, and
however long it waits for a lock another process holds, the event loop goes on answering Slack.
The writer stays on the loop (see ``store.py``): its statements are short, and a thread hand-off
per statement costs more than the statement.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import aiosqlite

from bot.store.executor import Row

Queued = Callable[[Callable[[], Awaitable[aiosqlite.Connection]]], Awaitable[aiosqlite.Connection]]

READERS = 4  # reads at once; more wait for a free connection
READ_BUSY_TIMEOUT_MS = 10_000  # waiting here blocks a reader thread, never the loop
_FOR_UPDATE = re.compile(r"\s+FOR UPDATE(\s+SKIP LOCKED)?")


@lru_cache(maxsize=512)
def plain_sql(text: str) -> str:
    """The shared SQL as SQLite runs it: row locks dropped (one writer at a time needs none)."""
    return _FOR_UPDATE.sub("", text)


class AiosqliteExecutor:
    """Runs the shared SQL on an aiosqlite connection: one hand-off to its thread per statement."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self._conn.execute_fetchall(plain_sql(sql), tuple(params))
        return next(iter(rows), None)

    async def many(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(plain_sql(sql), tuple(params)))

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    async def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    async def lock(self, name: str, shared: bool = False) -> None:
        return None

    async def try_lock(self, name: str) -> bool:
        return True

    async def restart_identities(self, *columns: tuple[str, str]) -> None:
        return None


async def open_reader(path: str) -> aiosqlite.Connection:
    """A read-only connection (``mode=ro``): nothing read through it can write."""
    conn = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_TIMEOUT_MS}")
    except BaseException:
        await conn.close()
        raise
    return conn


class ReaderPool:
    def __init__(self, path: str, size: int = READERS) -> None:
        self._path = path
        self._size = size
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        for _ in range(self._size):
            conn = await open_reader(self._path)
            self._all.append(conn)
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all = []

    @asynccontextmanager
    async def connection(self, queued: Queued) -> AsyncIterator[aiosqlite.Connection]:
        """A connection of its own for the caller; ``queued`` bounds the wait for a free one."""
        conn = await queued(self._idle.get)
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    @property
    def threads(self) -> list[Any]:
        """The reader connections' threads (each aiosqlite connection is one)."""
        return list(self._all)

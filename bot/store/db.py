"""The SQLite connection: WAL, busy_timeout, foreign keys, and write transactions.

One writer connection sits behind an asyncio lock; every write is ``BEGIN IMMEDIATE``
so that other processes on the same file queue on ``busy_timeout`` instead of failing.
Reads use a second connection and see the last committed state (WAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.domain.errors import ConfigurationError, RepeatedDelivery, StorageFailure
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


def _describe(exc: sqlite3.Error) -> str:
    """A short cause a person or operator can act on, without SQL."""
    text = str(exc).lower()
    if "full" in text:
        return "the database disk is full"
    if "readonly" in text or "read-only" in text:
        return "the database is read-only"
    if "locked" in text or "busy" in text:
        return "the database is busy"
    return "a database error"


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise ConfigurationError(
            "DATABASE_URL", f"{path} is a directory; point it at a file, e.g. sqlite:///{path / 'signoff.db'}."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError("DATABASE_URL", f"cannot create the folder {path.parent} ({exc.strerror}).") from None
    # SQLite needs to write the file and, for its WAL, the folder beside it.
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigurationError(
            "DATABASE_URL",
            f"{path} is on a read-only filesystem or in a folder signoff cannot write; "
            "point DATABASE_URL at a writable place.",
        )


def _open_problem(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return f"{path} is not a SQLite database (or is damaged); point DATABASE_URL at a new file or signoff's own."
    if "readonly" in text or "read-only" in text:
        return f"{path} is read-only; point DATABASE_URL at a writable file."
    if "full" in text:
        return f"the disk holding {path} is full; free space and start again."
    return f"{path} cannot be opened ({exc}); check the path and its permissions."


async def _connect(path: str) -> Conn:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit reaches the disk before signoff answers, so a power loss or an OS crash
        # cannot take back what was acknowledged (NORMAL in WAL mode can lose the last commits).
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()  # its thread would otherwise keep the process alive
        raise
    return conn


class Database:
    def __init__(self, path: str) -> None:
        self.path = path
        self._writer: Conn | None = None
        self._reader: Conn | None = None
        self._lock = asyncio.Lock()
        self._durable = True  # the writer's synchronous setting: FULL (True) or NORMAL

    async def open(self) -> None:
        """Open, check and migrate the file; anything unusable is a ConfigurationError naming DATABASE_URL."""
        if self.path != ":memory:":
            _check_path(Path(self.path))
        try:
            self._durable = True
            self._writer = await _connect(self.path)
            await migrate(self._writer)
            self._reader = await _connect(self.path)
        except sqlite3.Error as exc:
            await self.close()
            raise ConfigurationError("DATABASE_URL", _open_problem(Path(self.path), exc)) from None
        except BaseException:
            await self.close()
            raise

    async def writable(self) -> str | None:
        """None when a write commits now; otherwise what stops it (a full disk, a read-only file)."""
        try:
            async with self.transaction(durable=False) as conn:
                await conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('ready_probe', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (to_db(datetime.now(UTC)),),
                )
        except StorageFailure as err:
            return err.detail
        return None

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def transaction(self, delivery: str | None = None, durable: bool = True) -> AsyncIterator[Conn]:
        """A write transaction. Commits on success, rolls back on any exception.

        ``durable`` (the default) commits with ``synchronous = FULL``: on disk before anyone is
        answered. Bookkeeping that nobody is answered about (outbox claims and results, pruning,
        readiness probes) passes False and commits with NORMAL; the next durable commit flushes
        it too, and after a power loss the outbox only re-checks Slack before posting again.

        ``delivery`` is the key of the Slack delivery this work answers. It is remembered in
        this same transaction, so a retry after any failure does the work again, and a retry
        after success raises RepeatedDelivery before doing anything twice. A database error
        (disk full, I/O, a refused write) rolls everything back and becomes StorageFailure.
        """
        assert self._writer is not None, "Database.open() was not called"
        async with self._lock:
            conn = self._writer
            try:
                if durable != self._durable:
                    await conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                    self._durable = durable
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StorageFailure(_describe(exc)) from exc
            try:
                if delivery is not None:
                    cur = await conn.execute(
                        "INSERT INTO deliveries (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                        (delivery, to_db(datetime.now(UTC))),
                    )
                    if cur.rowcount != 1:
                        raise RepeatedDelivery(delivery)
                yield conn
                await conn.execute("COMMIT")
            except BaseException as exc:
                await self._rollback(conn)
                if isinstance(exc, sqlite3.Error):
                    raise StorageFailure(_describe(exc)) from exc
                raise

    @staticmethod
    async def _rollback(conn: Conn) -> None:
        # After some errors (a full disk) SQLite has already rolled back; a second ROLLBACK then fails.
        with contextlib.suppress(sqlite3.Error):
            await conn.execute("ROLLBACK")

    async def seen(self, delivery: str) -> bool:
        """True when the work of this Slack delivery is already stored. A read that fails says
        "not seen": the work's own transaction still refuses a repeat, and reports the failure."""
        try:
            return await self.fetchone("SELECT 1 FROM deliveries WHERE key = ?", (delivery,)) is not None
        except sqlite3.Error:
            return False

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

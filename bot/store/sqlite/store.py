"""SQLite: a writer and a reader connection, and each write transaction as one hand-off.

Statements run on the event loop with the standard ``sqlite3`` module: on a local file they
take microseconds, far less than handing each one to a thread and back (which used to cost
more than the statement). What can wait runs in a thread instead: a durable COMMIT (the
fsync), waiting for another process's write lock, and the WAL checkpoint. So a transaction
is at most one hand-off. Every write is ``BEGIN IMMEDIATE`` behind an asyncio lock, so
other processes on the same file queue on the lock instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.domain.errors import ConfigurationError, StorageFailure
from bot.store.executor import Row
from bot.store.schema import Schema
from bot.store.sqlite.introspect import read_schema
from bot.store.sqlite.migrations import migrate
from bot.store.unit_of_work import Backend, Repos, Tx

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_FOR_UPDATE = re.compile(r"\s+FOR UPDATE(\s+SKIP LOCKED)?")


@lru_cache(maxsize=512)
def _sql(text: str) -> str:
    return _FOR_UPDATE.sub("", text)  # one writer at a time: rows need no locks


class SqliteExecutor:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(_sql(sql), tuple(params)).fetchone()
        return row

    async def many(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(_sql(sql), tuple(params)).fetchall())

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._conn.execute(_sql(sql), tuple(params)).rowcount)

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.executemany(_sql(sql), [tuple(r) for r in rows])

    async def lock(self, name: str, shared: bool = False) -> None:
        return None  # BEGIN IMMEDIATE already made this the only writer

    async def try_lock(self, name: str) -> bool:
        return True

    async def restart_identities(self, *columns: tuple[str, str]) -> None:
        return None  # AUTOINCREMENT continues after the largest id by itself


def describe(exc: sqlite3.Error) -> str:
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


def connect(path: str, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=uri)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if uri:  # read-only: leave the file's journal mode alone
            return conn
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit reaches the disk before signoff answers, so a power loss or an OS crash
        # cannot take back what was acknowledged (NORMAL in WAL mode can lose the last commits).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_read_only(path: str) -> sqlite3.Connection:
    if not os.path.isfile(path):
        raise ConfigurationError("DATABASE_URL", f"there is no database at {path}")
    try:
        return connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ConfigurationError("DATABASE_URL", _open_problem(Path(path), exc)) from None


class SqliteStore(Backend):
    kind = "sqlite"

    def __init__(self, path: str, tool: bool = False) -> None:
        super().__init__()
        self.path = path
        self._tool = tool  # opened by a command-line tool: read-only, no migrations
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._durable = True  # the writer's synchronous setting: FULL (True) or NORMAL

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    async def open(self) -> None:
        """Open, check and migrate the file; anything unusable is a ConfigurationError naming DATABASE_URL."""
        if self._tool:
            self._reader = _open_read_only(self.path)
            return
        if self.path != ":memory:":
            _check_path(Path(self.path))
        try:
            self._durable = True
            # Waiting for another process's lock happens in a thread (see _begin), never on the loop.
            self._writer = await asyncio.to_thread(connect, self.path)
            await asyncio.to_thread(migrate, self._writer)
            self._writer.execute("PRAGMA busy_timeout = 0")
            self._reader = await asyncio.to_thread(connect, self.path)
        except sqlite3.Error as exc:
            await self.close()
            raise ConfigurationError("DATABASE_URL", _open_problem(Path(self.path), exc)) from None
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None

    async def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            await asyncio.to_thread(self._begin_waiting, conn)  # another process writes: wait off the loop

    @staticmethod
    def _begin_waiting(conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA busy_timeout = 0")

    @asynccontextmanager
    async def write(self, delivery: str | None = None, durable: bool = True) -> AsyncIterator[Tx]:
        """See ``Store.write``. ``durable`` commits with ``synchronous = FULL`` (on disk before anyone
        is answered); bookkeeping commits with NORMAL, and the next durable commit flushes it too."""
        assert self._writer is not None, "SqliteStore.open() was not called"
        async with self._lock:
            conn = self._writer
            try:
                if durable != self._durable:
                    conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                    self._durable = durable
                await self._begin(conn)
            except sqlite3.Error as exc:
                raise StorageFailure(describe(exc)) from exc
            try:
                async with self._unit(SqliteExecutor(conn), delivery) as tx:
                    yield tx
                if durable:
                    await asyncio.to_thread(conn.execute, "COMMIT")
                else:
                    conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, sqlite3.Error):
                    raise StorageFailure(describe(exc)) from exc
                raise
        self._done(tx)

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        # After some errors (a full disk) SQLite has already rolled back; a second ROLLBACK then fails.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")

    @asynccontextmanager
    async def read(self, snapshot: bool = False) -> AsyncIterator[Repos]:
        """Reads on the shared reader connection; ``snapshot`` reads on a connection of its own
        inside one read transaction, so it sees one consistent state throughout."""
        assert self._reader is not None, "SqliteStore.open() was not called"
        try:
            if not snapshot:
                yield Repos(SqliteExecutor(self._reader))
                return
            conn = await asyncio.to_thread(connect, f"file:{self.path}?mode=ro", True)
            try:
                conn.execute("BEGIN")
                yield Repos(SqliteExecutor(conn))
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StorageFailure(describe(exc)) from exc

    async def schema(self) -> Schema:
        assert self._reader is not None, "SqliteStore.open() was not called"
        return await read_schema(SqliteExecutor(self._reader))

    async def maintain(self) -> None:
        """Fold the WAL back into the database file so it does not grow without bound."""
        assert self._writer is not None
        async with self._lock:
            await asyncio.to_thread(self._checkpoint, self._writer)

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # readers of other processes may be mid-read
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    # For tests and operator tools, never services: a raw read on the reader connection.
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        assert self._reader is not None
        return self._reader.execute(sql, tuple(params)).fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        assert self._reader is not None
        return list(self._reader.execute(sql, tuple(params)).fetchall())

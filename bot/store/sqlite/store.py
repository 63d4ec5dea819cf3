"""SQLite: one writer connection on the event loop, reads on aiosqlite threads.

Writes: statements run on the event loop with the standard ``sqlite3`` module. A write
transaction's statements are short (a handful of indexed rows each, microseconds on a local
file), far less than a thread hand-off per statement would cost. The COMMIT runs on the loop
too, a durable one's fsync included (about 0.5 ms on a local disk): measured in a thread
instead (docs/performance.md, 2026-12-07), 3,140 of 16,000 answers at 800 interactions a second
came later than Slack's 3 s, against none of 32,000 at 1,600 a second on the loop. A loop that
stalls for the fsync shows the overload in its lag, so admission sheds at the door; in a
thread, the loop admits work the write lock cannot serve in time. What can wait long runs in a
thread: waiting for another process's write lock, and WAL checkpoints. Every write is
``BEGIN IMMEDIATE`` behind an asyncio lock, so other processes on the same file queue on the
lock instead of failing. The writer never checkpoints by itself (``wal_autocheckpoint = 0``): a
checkpoint inside a COMMIT on the loop would hold it; instead a background thread checkpoints
every few seconds.

Reads: everything read through ``read()`` runs on a pool of aiosqlite connections, each with a
thread of its own (``readers.py``), so a read that grows with the data (a report, an export,
the summary, App Home, the long-poll change feed) never holds the loop, nor does waiting for a
lock another process holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.deadlines import wait_budget
from bot.domain.errors import Busy, ConfigurationError, StorageFailure
from bot.store.executor import Row
from bot.store.schema import Schema
from bot.store.sqlite.introspect import read_schema
from bot.store.sqlite.migrations import migrate
from bot.store.sqlite.readers import AiosqliteExecutor, ReaderPool, plain_sql
from bot.store.unit_of_work import Repos, Store, Tx

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_SECONDS = 5.0  # the WAL is folded back into the file this often, off the loop
_sql = plain_sql


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

    async def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_sql(sql), tuple(params))

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.executemany(_sql(sql), [tuple(r) for r in rows])

    async def lock(self, name: str, shared: bool = False) -> None:
        return None  # BEGIN IMMEDIATE already made this the only writer

    async def try_lock(self, name: str) -> bool:
        return True

    async def restart_identities(self, *columns: tuple[str, str]) -> None:
        return None  # AUTOINCREMENT continues after the largest id by itself


async def _outlive(task: asyncio.Future[Any]) -> None:
    """Wait for ``task`` to end, through any further cancellation (it ends within its timeout)."""
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
    with contextlib.suppress(BaseException):
        task.result()


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
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run in a thread, never in a COMMIT
    except BaseException:
        conn.close()
        raise
    return conn


def _check_exists(path: str) -> None:
    if not os.path.isfile(path):
        raise ConfigurationError("DATABASE_URL", f"there is no database at {path}")


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(self, path: str, tool: bool = False) -> None:
        super().__init__()
        self.path = path
        self._tool = tool  # opened by a command-line tool: read-only, no migrations
        self._writer: sqlite3.Connection | None = None
        self._readers: ReaderPool | None = None
        self._probe: sqlite3.Connection | None = None  # on the loop: one indexed lookup, never a wait
        self._checkpointer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._durable = True  # the writer's synchronous setting: FULL (True) or NORMAL

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    async def open(self) -> None:
        """Open, check and migrate the file; anything unusable is a ConfigurationError naming DATABASE_URL."""
        try:
            if self._tool:
                _check_exists(self.path)
                self._readers = ReaderPool(self.path, size=1)
                await self._readers.open()
                return
            _check_path(Path(self.path))
            self._durable = True
            # Waiting for another process's lock happens in a thread (see _begin), never on the loop.
            self._writer = await asyncio.to_thread(connect, self.path)
            await asyncio.to_thread(migrate, self._writer)
            self._writer.execute("PRAGMA busy_timeout = 0")
            self._readers = ReaderPool(self.path)
            await self._readers.open()
            self._probe = await asyncio.to_thread(connect, f"file:{self.path}?mode=ro", True)
            self._probe.execute("PRAGMA busy_timeout = 0")
            self._checkpointer = asyncio.create_task(self._checkpoint_often(), name="sqlite checkpoints")
        except sqlite3.Error as exc:
            await self.close()
            raise ConfigurationError("DATABASE_URL", _open_problem(Path(self.path), exc)) from None
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
            self._checkpointer = None
        if self._readers is not None:
            await self._readers.close()
            self._readers = None
        for conn in (self._probe, self._writer):
            if conn is not None:
                conn.close()
        self._probe = self._writer = None

    async def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        # Another process writes: wait off the loop, no longer than the work's deadline allows. The
        # thread's own busy timeout is that deadline, so it is never abandoned while it can still
        # begin: a thread left behind would begin a transaction on the shared connection later,
        # and every write after it would fail.
        budget = wait_budget()
        wait_ms = BUSY_TIMEOUT_MS if budget is None else min(BUSY_TIMEOUT_MS, int(budget * 1000))
        if wait_ms <= 0:
            raise Busy()
        loop = asyncio.get_running_loop()
        started = loop.time()
        waiting = asyncio.ensure_future(asyncio.to_thread(self._begin_waiting, conn, wait_ms))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # Whoever waited is gone; the thread still has the connection. Let it end, then undo
            # what it began, before the connection (and the write lock) go to anybody else.
            await _outlive(waiting)
            if conn.in_transaction:
                self._rollback(conn)
            raise
        except sqlite3.OperationalError as exc:
            if budget is not None and ("locked" in str(exc) or "busy" in str(exc)):
                raise Busy() from None
            raise
        finally:
            self._waited(loop.time() - started)

    @staticmethod
    def _begin_waiting(conn: sqlite3.Connection, wait_ms: int) -> None:
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA busy_timeout = 0")

    @asynccontextmanager
    async def write(self, receipt: str | None = None, durable: bool = True, routing: bool = False) -> AsyncIterator[Tx]:
        """See ``Store.write``. ``durable`` commits with ``synchronous = FULL`` (on disk before anyone
        is answered); bookkeeping commits with NORMAL, and the next durable commit flushes it too.
        ``routing`` changes nothing here: the one writer at a time holds every lock."""
        assert self._writer is not None, "SqliteStore.open() was not called"
        await self._queued(self._lock.acquire)
        try:
            conn = self._writer
            try:
                if durable != self._durable:
                    conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                    self._durable = durable
                await self._begin(conn)
            except sqlite3.Error as exc:
                raise StorageFailure(describe(exc)) from exc
            try:
                async with self._unit(SqliteExecutor(conn), receipt) as tx:
                    yield tx
                # On the loop, the fsync included: in a thread it measured worse (docstring above).
                conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, sqlite3.Error):
                    raise StorageFailure(describe(exc)) from exc
                raise
        finally:
            self._lock.release()
        # Every statement and the COMMIT ran on the loop without waiting: yield once, so a chain of
        # transactions (a batched sweep) never holds the loop longer than one of them.
        await asyncio.sleep(0)
        self._done(tx)

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        # After some errors (a full disk) SQLite has already rolled back; a second ROLLBACK then fails.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")

    @asynccontextmanager
    async def read(self, snapshot: bool = False) -> AsyncIterator[Repos]:
        """Reads on a pooled aiosqlite connection (its own thread); ``snapshot`` reads inside one
        read transaction, so they see one consistent state throughout."""
        assert self._readers is not None, "SqliteStore.open() was not called"
        try:
            async with self._readers.connection(self._queued) as conn:
                if not snapshot:
                    yield Repos(AiosqliteExecutor(conn))
                    return
                await conn.execute("BEGIN")
                try:
                    yield Repos(AiosqliteExecutor(conn))
                finally:
                    await conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StorageFailure(describe(exc)) from exc

    async def seen(self, receipt: str) -> bool:
        """Whether a Slack delivery's work is stored: one indexed lookup on a read-only connection on
        the loop (a WAL reader never waits for a writer; with no busy timeout, a rare moment it
        cannot read says False, and the work's own transaction still refuses a repeat)."""
        if self._probe is None:
            return await super().seen(receipt)
        try:
            row = self._probe.execute("SELECT 1 FROM deliveries WHERE key = ?", (receipt,)).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    async def schema(self) -> Schema:
        async with self.read() as r:
            return await read_schema(r.executor)

    async def maintain(self) -> None:
        """Fold the whole WAL back into the database file (TRUNCATE), in a thread."""
        if self._writer is None:
            return
        async with self._lock:
            await asyncio.to_thread(self._checkpoint, self._writer, "TRUNCATE")

    async def _checkpoint_often(self) -> None:
        """A PASSIVE checkpoint every few seconds, in a thread, on a connection of its own: writers
        go on meanwhile, and the WAL stays short without any COMMIT on the loop checkpointing."""
        conn = await asyncio.to_thread(connect, self.path)
        try:
            while True:
                await asyncio.sleep(CHECKPOINT_SECONDS)
                try:
                    await asyncio.to_thread(self._checkpoint, conn, "PASSIVE")
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", describe(exc))
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection, mode: str) -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # readers of other processes may be mid-read
        try:
            conn.execute(f"PRAGMA wal_checkpoint({mode})")
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

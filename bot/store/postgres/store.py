"""PostgreSQL: a connection pool for work, and one connection listening for other replicas' commits.

Correct with several writers: rows a transaction decides on are locked ``FOR UPDATE``; the
audit sequencer, outbox claims and time-driven sweeps take transaction-scoped advisory locks
(``Executor.lock``, ``try_lock``); outbox rows are claimed ``FOR UPDATE SKIP LOCKED``. After a commit that
changed requests, the ids are sent to the other replicas (``bot.store.postgres.changes``), so
long-polls on every replica wake when it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import select
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from bot.deadlines import wait_budget
from bot.domain.errors import Busy, ConfigurationError, StorageFailure
from bot.store.executor import Row
from bot.store.postgres.changes import Notifier, listen
from bot.store.postgres.introspect import read_schema
from bot.store.postgres.migrations import migrate
from bot.store.schema import Schema
from bot.store.sql.requests import ROUTING_LOCK
from bot.store.unit_of_work import Repos, Store, Tx

log = logging.getLogger(__name__)

POOL_MAX = 16
WRITERS = 4  # write transactions at once per process (measured: docs/performance.md, 2026-12-08)
CONNECT_TIMEOUT_SECONDS = 10.0  # at start
WORK_CONNECT_SECONDS = 2  # a new pooled connection while serving
IDLE_CHECK_SECONDS = 2.0  # a pooled connection idle this long is checked before it is used
CHECKOUT_SECONDS = 2.5  # waiting for a free pooled connection: an answer must leave within Slack's 3 s
STATEMENT_TIMEOUT_MS = 5_000
IDLE_IN_TRANSACTION_MS = 30_000
SERVING_OPTIONS = (
    f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
)
_INDEXED_BY = re.compile(r"\s+INDEXED BY \w+")

Conn = psycopg.AsyncConnection[dict[str, Any]]


_QUOTED = re.compile(r"'[^']*'")


@lru_cache(maxsize=512)
def _sql(text: str) -> str:
    """The shared SQL with PostgreSQL's placeholders. Refused at first use, never run wrongly: a
    ``%`` (psycopg would read it as a placeholder) and a ``?`` inside a quoted string (it would
    become one)."""
    if "%" in text:
        raise ValueError(f"a '%' in shared SQL breaks the placeholder rewrite; pass it as a parameter: {text[:80]}")
    if any("?" in quoted for quoted in _QUOTED.findall(text)):
        raise ValueError(f"a quoted '?' in shared SQL breaks the placeholder rewrite: {text[:80]}")
    return _INDEXED_BY.sub("", text).replace("?", "%s")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.blake2b(f"signoff:{name}".encode(), digest_size=8).digest(), "big", signed=True)


class PgExecutor:
    """Runs the shared SQL on a pooled connection, one round trip per statement (``run_many`` sends
    its rows in one); in a write transaction it remembers the advisory locks it holds."""

    def __init__(self, conn: Conn, held: dict[str, bool] | None = None) -> None:
        self._conn = conn
        self._held: dict[str, bool] = dict(held or {})  # advisory locks this transaction holds: name -> shared

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cur = await self._conn.execute(_sql(sql), tuple(params))
        return await cur.fetchone()

    async def many(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = await self._conn.execute(_sql(sql), tuple(params))
        return list(await cur.fetchall())

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = await self._conn.execute(_sql(sql), tuple(params))
        return int(cur.rowcount)

    async def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._conn.execute(_sql(sql), tuple(params))

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            async with self._conn.cursor() as cur:
                await cur.executemany(_sql(sql), [tuple(r) for r in rows])

    async def lock(self, name: str, shared: bool = False) -> None:
        """Waits until the lock is granted; the statements after it each see what was committed
        before they began (READ COMMITTED)."""
        held = self._held.get(name)
        if held is not None and (shared or not held):
            return  # held already, as strongly: asking again would be a round trip for nothing
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self._conn.execute(f"SELECT {fn}(%s)", (lock_key(name),))
        self._held[name] = shared

    async def restart_identities(self, *columns: tuple[str, str]) -> None:
        for table, column in columns:
            await self._conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )

    async def try_lock(self, name: str) -> bool:
        cur = await self._conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (lock_key(name),))
        row = await cur.fetchone()
        if row and row["ok"]:
            self._held[name] = False
            return True
        return False


def failure(exc: psycopg.Error) -> StorageFailure:
    """What a driver error means for the work: conflicts are run again by ``transact``."""
    if isinstance(exc, psycopg.errors.DeadlockDetected):
        return StorageFailure(describe(exc), conflict="deadlock")
    if isinstance(exc, psycopg.errors.SerializationFailure):
        return StorageFailure(describe(exc), conflict="serialization")
    return StorageFailure(describe(exc))


def describe(exc: psycopg.Error) -> str:
    if isinstance(exc, psycopg.errors.DiskFull):
        return "the database disk is full"
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return "the database is read-only"
    if isinstance(exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
        return "the database is busy"
    if isinstance(exc, psycopg.OperationalError):
        return "the database cannot be reached"
    return "a database error"


def _has_news(conn: Conn) -> bool:
    """Whether the server sent something to a connection nobody is using: only a server that drops
    it does (a restart, a failover, pg_terminate_backend), so it is checked before use. A poll of
    the socket, not a round trip."""
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return True
    return bool(readable)


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class PostgresStore(Store):
    kind = "postgresql"

    def __init__(self, url: str, pool_max: int = POOL_MAX, tool: bool = False, writers: int = WRITERS) -> None:
        super().__init__()
        # Write transactions wait here, not inside the database: every open transaction holds a
        # connection idle between its statements while the one event loop serves the others, so
        # more of them at once only interleave; the wait here is a queue admission can see.
        self._writers = asyncio.Semaphore(writers)
        self._url = url
        self._tool = tool  # opened by a command-line tool: no migrations, no listening
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._pool_max = pool_max
        self._listener: asyncio.Task[None] | None = None
        self._me = uuid.uuid4().hex[:12]  # this store's own notifications are not news to it
        self._notifier = Notifier(url, self._me)
        self._returned: weakref.WeakKeyDictionary[Conn, float] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"PostgresStore({safe_url(self._url)!r})"

    @property
    def url(self) -> str:
        return safe_url(self._url)

    async def open(self) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_SECONDS)
            ) as conn:
                if not self._tool:
                    await migrate(conn)
        except psycopg.Error as exc:
            raise ConfigurationError(
                "DATABASE_URL", f"cannot use PostgreSQL at {safe_url(self._url)}: {_first_line(exc)}"
            ) from None
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            self._url,
            min_size=2,
            max_size=self._pool_max,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": WORK_CONNECT_SECONDS,
                # Nothing waits on the database longer than Slack waits for an answer; a transaction left
                # open by a process that vanished (a network partition) gives its locks back.
                **({} if self._tool else {"options": SERVING_OPTIONS}),
            },
            open=False,
            timeout=CHECKOUT_SECONDS,
            # A connection the server dropped (a restart, a failover) is replaced before use, not
            # handed to a request that would then fail; one in use moments ago is not pinged again
            # (a round trip per checkout was a tenth of the bot's time under load) unless the
            # server sent it something, which only a dropped connection gets.
            check=self._check_if_idle,
            name="signoff",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        except PoolTimeout:
            await pool.close()
            raise ConfigurationError("DATABASE_URL", f"cannot connect to {safe_url(self._url)}") from None
        self._pool = pool
        if not self._tool:
            self._listener = asyncio.create_task(listen(self._url, self._me, self._tell), name="pg-listen")

    async def _check_if_idle(self, conn: Conn) -> None:
        returned = self._returned.get(conn)
        recent = returned is not None and asyncio.get_running_loop().time() - returned < IDLE_CHECK_SECONDS
        if recent and not _has_news(conn):
            return
        await AsyncConnectionPool.check_connection(conn)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._notifier.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A pooled connection, waited for no longer than the work's deadline allows (then Busy)
        and never longer than CHECKOUT_SECONDS (then the database is taken as unreachable)."""
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not called"
        budget = wait_budget()
        limited = budget is not None and budget < CHECKOUT_SECONDS
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:  # the pool's own timeout, not a cancellation, so a connection is never lost in between
            conn = await pool.getconn(timeout=budget if limited else CHECKOUT_SECONDS)
        except PoolTimeout as exc:
            self._waited(loop.time() - started)
            if limited and pool.get_stats().get("pool_size", 0) >= self._pool_max:
                raise Busy() from None  # every connection is in use: a queue, not an outage
            raise StorageFailure("the database cannot be reached") from exc
        self._waited(loop.time() - started)
        try:
            yield conn
        finally:
            self._returned[conn] = loop.time()
            await pool.putconn(conn)

    @asynccontextmanager
    async def _begun(self, settings: list[str], first: list[str]) -> AsyncIterator[Conn]:
        """A connection inside a transaction: BEGIN, the transaction's ``SET LOCAL`` settings and
        its ``first`` statements (constant text) in one round trip (one simple query), COMMIT when
        the block ends, ROLLBACK when it raises. A server that dropped the connection after the
        checkout's check fails the BEGIN; nothing of the caller's has run yet, so one more
        connection is tried before the work is refused."""
        begin = "; ".join(["BEGIN", *(f"SET LOCAL {setting}" for setting in settings), *first])
        for attempt in range(2):
            async with self._connection() as conn:
                try:
                    await conn.execute(begin.encode())
                except psycopg.OperationalError:
                    if not conn.closed:
                        await _rolled_back(conn)  # e.g. a first statement's lock wait ran out
                    if attempt or not conn.closed:
                        raise
                    continue
                try:
                    yield conn
                except BaseException:
                    await _rolled_back(conn)
                    raise
                await conn.execute(b"COMMIT")
                return

    @asynccontextmanager
    async def write(self, receipt: str | None = None, durable: bool = True, routing: bool = False) -> AsyncIterator[Tx]:
        """One transaction. Lock waits inside the database end at the work's deadline
        (``lock_timeout``), answered as Busy. (psycopg's pipeline mode was measured here and
        left out: on a database near the bot its bookkeeping cost more than the round trips
        it saved; see docs/performance.md.)"""
        budget = wait_budget()
        settings = []
        if budget is not None:
            settings.append(f"lock_timeout = '{max(1, int(budget * 1000))}ms'")
        if not durable:  # bookkeeping: a crash may lose it, and the outbox re-checks Slack
            settings.append("synchronous_commit = off")
        # The routing lock rides with BEGIN: granted before any statement of the work reads
        # (each sees what was committed before it began, READ COMMITTED), and no round trip of its own.
        first = [f"SELECT pg_advisory_xact_lock_shared({lock_key(ROUTING_LOCK)})"] if routing else []
        await self._queued(self._writers.acquire)
        try:
            async with (
                self._begun(settings, first) as conn,
                self._unit(PgExecutor(conn, held={ROUTING_LOCK: True} if routing else None), receipt) as tx,
            ):
                yield tx
        except psycopg.errors.LockNotAvailable as exc:
            if budget is not None:
                raise Busy() from None
            raise failure(exc) from exc
        except psycopg.Error as exc:
            raise failure(exc) from exc
        finally:
            self._writers.release()
        self._notifier.tell(tx.log.requests)  # committed: now other replicas may hear of it
        self._done(tx)

    @asynccontextmanager
    async def read(self, snapshot: bool = False) -> AsyncIterator[Repos]:
        try:
            async with self._connection() as conn:
                if not snapshot:
                    yield Repos(PgExecutor(conn))
                    return
                async with conn.transaction():
                    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield Repos(PgExecutor(conn))
        except psycopg.Error as exc:
            raise StorageFailure(describe(exc)) from exc

    async def schema(self) -> Schema:
        async with self.read() as r:
            return await read_schema(r.executor)

    async def maintain(self) -> None:
        return None  # autovacuum keeps PostgreSQL tidy


async def _rolled_back(conn: Conn) -> None:
    """End a transaction the work gave up on. A connection cancelled in the middle of a statement
    cannot be rolled back now: the pool closes it on return (and the server ends its transaction),
    so a transaction is never left open on a connection that is used again."""
    status = conn.info.transaction_status
    if conn.closed or status not in (psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR):
        return
    with contextlib.suppress(psycopg.Error):
        await conn.execute(b"ROLLBACK")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

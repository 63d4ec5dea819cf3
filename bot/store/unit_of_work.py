"""The store seam: what services see of storage, on any backend.

```
async def approve(tx: Tx) -> Decided:                       # the work of one transaction
    req = await tx.requests.get_for_update(request_id)      # domain types in and out
    if not allowed:
        await tx.refuse(err, actor, request_id, "approve", now)   # audited, committed, raised
    await tx.decisions.record(...)
    await tx.outbox.enqueue_many(now, notices)              # delivered after commit
    return ...

decided = await store.transact(approve, receipt)           # run, commit, retried on a deadlock
```
``transact`` runs the work in one transaction (``write``) and runs it again, a bounded number of
times, when the database broke the transaction off to resolve a deadlock or a serialization
conflict: nothing of a broken-off attempt was stored, so running it again is safe, and a person
or pipeline never hears "try again" for a conflict between two of their own requests.
After a commit the store tells its subscribers which requests changed and whether notices
were queued (to wake the outbox and long-poll waiters; on PostgreSQL, other replicas too).
Repositories run SQL through an ``Executor``; each backend provides one (see ``bot/store/sql``).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import NoReturn, TypeVar

from bot.clock import Clock, SystemClock
from bot.deadlines import wait_budget
from bot.domain.audit import AuditEntry
from bot.domain.errors import Busy, SignoffError, StorageFailure
from bot.store.executor import ChangeLog, Changes, Executor
from bot.store.schema import Schema
from bot.store.sql import repositories

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 6  # a transaction broken off by a deadlock or serialization conflict runs again up to 5 times
RETRY_BASE_SECONDS = 0.005  # then 10, 20, 40, 80 ms, each with jitter: well inside Slack's 3 s


class _RefusalInFlight(Exception):
    """Carries a refusal out of a transaction's body (``Tx.refuse``): the store commits the audit
    row, then raises the domain error it carries."""

    def __init__(self, error: SignoffError) -> None:
        super().__init__(str(error))
        self.error = error


class Repos:
    """Every repository, bound to one connection (a transaction, or a read)."""

    def __init__(self, ex: Executor, log: ChangeLog | None = None) -> None:
        r = repositories
        self.executor = ex  # for the store's own tools (schema, copy); services use the repositories
        self.log = log if log is not None else ChangeLog()
        self.requests = r.Requests(ex, self.log)
        self.assignments = r.Assignments(ex, self.log)
        self.decisions = r.Decisions(ex)
        self.availability = r.Availability(ex)
        self.homes = r.HomeViewers(ex)
        self.audit = r.AuditTrail(ex)
        self.outbox = r.Outbox(ex, self.log)
        self.messages = r.SlackMessages(ex)
        self.facts = r.Facts(ex)
        self.receipts = r.Receipts(ex)
        self.workflow = r.WorkflowSteps(ex)
        self.report = r.ReportReads(ex)
        self.groups = r.GroupMembers(ex)
        self.names = r.PeopleNames(ex)
        self.replicas = r.Replicas(ex)
        self.deployments = r.GithubDeployments(ex)


class Tx(Repos):
    """One write transaction."""

    refused: _RefusalInFlight | None = None  # set when the body refused: the audit row commits, then this is raised

    async def refuse(
        self, error: SignoffError, actor: str, request_id: int | None, attempt: str, at: datetime
    ) -> NoReturn:
        """Record a refusal in the audit trail and end the transaction: it commits, then ``error`` is raised."""
        code = getattr(error, "code", "refused")
        await self.audit.append(at, AuditEntry(actor, "refused", request_id, code, {"attempt": attempt}))
        raise _RefusalInFlight(error)

    def changed(self, request_id: int) -> None:
        """Wake whoever waits on this request once the transaction commits."""
        self.log.requests.add(request_id)


Subscriber = Callable[[Changes], None]


class Store(abc.ABC):
    """The one contract of a backend (bot/store/sqlite, bot/store/postgres): ``write`` is one
    transaction, ``read`` sees the last committed state. What every backend does the same way
    (retries, receipts, refusals, telling subscribers) is here; each backend opens its own
    connections and runs its own BEGIN and COMMIT."""

    kind: str  # "sqlite" | "postgresql"

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._retried: Callable[[str], None] = lambda reason: None
        self._waited: Callable[[float], None] = lambda seconds: None
        self._clock: Clock = SystemClock()

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, and bring the schema up to date (migrations)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def write(
        self, receipt: str | None = None, durable: bool = True, routing: bool = False
    ) -> AbstractAsyncContextManager[Tx]:
        """A write transaction. ``receipt`` is the key of the Slack delivery this work answers,
        remembered in the same transaction (a repeat raises RepeatedDelivery). ``durable=False`` is
        for bookkeeping nobody is answered about (outbox results, pruning), which a backend may
        commit more cheaply. ``routing``: the work changes a request and holds the routing lock
        shared from its first statement (a backend may take it with BEGIN, in the same round trip)."""

    @abc.abstractmethod
    def read(self, snapshot: bool = False) -> AbstractAsyncContextManager[Repos]:
        """Reads of committed state; ``snapshot`` sees one consistent state throughout (exports, copies)."""

    @abc.abstractmethod
    async def maintain(self) -> None:
        """Periodic housekeeping (SQLite folds its WAL back into the file)."""

    @abc.abstractmethod
    async def schema(self) -> Schema:
        """The live schema: tables, columns, keys, references and indexes."""

    def use_clock(self, clock: Clock) -> None:
        """The clock the store stamps its own rows with (receipts, the readiness probe)."""
        self._clock = clock

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def on_retry(self, counter: Callable[[str], None]) -> None:
        """``counter(reason)`` is called for every attempt ``transact`` runs again (for metrics)."""
        self._retried = counter

    def on_wait(self, listener: Callable[[float], None]) -> None:
        """``listener(seconds)`` hears how long each transaction waited for the database (the
        write lock, a pooled connection): the queueing delay admission control measures."""
        self._waited = listener

    async def _queued(self, take: Callable[[], Awaitable[T]]) -> T:
        """Wait in one of the store's queues (the write lock, a pooled connection) no longer than
        the work's deadline allows (``bot.deadlines``); past it, raise Busy: the work did not
        start, so nothing is stored. Every wait is reported to ``on_wait``."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(wait_budget()):
                got = await take()
        except TimeoutError:
            self._waited(loop.time() - started)
            raise Busy() from None
        self._waited(loop.time() - started)
        return got

    async def transact(
        self,
        work: Callable[[Tx], Awaitable[T]],
        receipt: str | None = None,
        durable: bool = True,
        routing: bool = False,
    ) -> T:
        """Run ``work`` in one write transaction and commit; see the module's docstring."""
        for attempt in range(ATTEMPTS):
            try:
                async with self.write(receipt, durable, routing) as tx:
                    return await work(tx)
            except StorageFailure as err:
                if err.conflict is None or attempt == ATTEMPTS - 1:
                    raise
                self._retried(err.conflict)
                delay = RETRY_BASE_SECONDS * 2**attempt
                log.info("a transaction was broken off (%s); running it again", err.conflict)
                await asyncio.sleep(delay * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _tell(self, changes: Changes) -> None:
        if changes:
            for subscriber in self._subscribers:
                subscriber(changes)

    @asynccontextmanager
    async def _unit(self, ex: Executor, receipt: str | None) -> AsyncIterator[Tx]:
        """What every backend's write transaction does inside its BEGIN and COMMIT: remember the
        receipt (the key of the Slack delivery it answers) first, run the body, keep a refusal's
        audit row (the refusal is raised by ``_done``), and chain the audit rows last, so the
        chain's lock is the last a transaction takes."""
        tx = Tx(ex, ChangeLog())
        if receipt is not None:
            await tx.receipts.remember(receipt, self._clock.now())
        try:
            yield tx
        except _RefusalInFlight as exc:
            tx.refused = exc
        await tx.audit.flush()

    def _done(self, tx: Tx) -> None:
        """After the commit: tell subscribers, then raise the refusal the body made, if any."""
        self._tell(tx.log.frozen())
        if tx.refused is not None:
            raise tx.refused.error

    async def seen(self, receipt: str) -> bool:
        """True when the work of this Slack delivery is already stored (a failed read says False)."""
        try:
            async with self.read() as r:
                return await r.receipts.seen(receipt)
        except StorageFailure:
            return False  # the work's own transaction still refuses a repeat, and reports the failure

    async def writable(self) -> str | None:
        """None when a write commits now; otherwise what stops it."""
        try:
            async with self.write(durable=False) as tx:
                await tx.facts.put("ready_probe", self._clock.now().isoformat())
        except StorageFailure as err:
            return err.detail
        return None

"""Opening stores for the contract suite, and running one operation from many writers at once:
several store objects (separate connections) in this process, and on the shape
``postgresql-2-processes`` as many again in a second process, all released at the same moment."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Draft, NewRequest, Status
from bot.services.audit_sequencer import seal_audit
from bot.store import store_for
from bot.store.unit_of_work import Store
from tests import backends

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
WRITERS = 3
SPREADS = ["sqlite", "postgresql", "postgresql-2-processes"]
Op = Callable[..., Awaitable[Any]]


@asynccontextmanager
async def stores(url: str, n: int = 1) -> AsyncIterator[list[Store]]:
    opened: list[Store] = []
    try:
        for _ in range(n):
            store = store_for(url)
            await store.open()
            opened.append(store)
        yield opened
    finally:
        for store in opened:
            await store.close()


async def sealed(store: Store) -> None:
    """Seal every audit row written so far (what the running bot's sequencer does within a second)."""
    result = await seal_audit(store)
    assert result.changed is None and not result.elsewhere


async def new_request(store: Store, requester: str = "U0JUNIOR1", key: str | None = None, **changes: Any) -> int:
    """A pending request; ``changes`` replace any argument of ``Requests.insert``."""
    fields: dict[str, Any] = dict(
        requester=requester,
        draft=Draft(title="Add index", url="https://example.com/pr/1", ai_assisted=True),
        status=Status.PENDING,
        required=True,
        policy_reason="ai_assisted_junior",
        now=NOW,
        source="api",
        pipeline="ci",
        idempotency_key=key,
        idempotency_hash="h" if key else None,
    )
    async with store.write() as tx:
        return int(await tx.requests.insert(NewRequest(**{**fields, **changes})))


class Spread:
    """A database and how many processes write to it at once."""

    def __init__(self, url: str, processes: int) -> None:
        self.url = url
        self.processes = processes

    async def run(self, op: Op, calls: list[tuple[Any, ...]]) -> list[Any]:
        """``op(store, *call)`` for every call, all at once, spread over the writers (and over the
        processes); returns each call's result (or the exception it raised), in order. ``op`` must
        be a module-level coroutine function, so the second process can find it."""
        if self.processes == 1:
            async with stores(self.url, WRITERS) as writers:
                done = await _gather(writers, op, list(enumerate(calls)))
            return [done[i] for i in range(len(calls))]
        mine = [(i, c) for i, c in enumerate(calls) if i % 2 == 0]
        theirs = [(i, c) for i, c in enumerate(calls) if i % 2 == 1]
        ctx = multiprocessing.get_context("spawn")
        here, there = ctx.Pipe()
        child = ctx.Process(target=_child, args=(self.url, op, theirs, there), daemon=True)
        child.start()
        try:
            async with stores(self.url, WRITERS) as writers:
                assert await asyncio.to_thread(_recv, here) == "ready"
                here.send("go")
                results = await _gather(writers, op, mine)
                for i, result in zip([i for i, _ in theirs], await asyncio.to_thread(_recv, here), strict=True):
                    results[i] = result
        finally:
            child.join(timeout=30)
        return [results[i] for i in range(len(calls))]


async def _gather(writers: list[Store], op: Op, calls: list[tuple[int, tuple[Any, ...]]]) -> dict[int, Any]:
    done = await asyncio.gather(
        *(op(writers[k % len(writers)], *call) for k, (_, call) in enumerate(calls)), return_exceptions=True
    )
    return {i: result for (i, _), result in zip(calls, done, strict=True)}


def _recv(conn: Connection) -> Any:
    if not conn.poll(60):
        raise TimeoutError("the second process did not answer within 60 s")
    return conn.recv()


def _child(url: str, op: Op, calls: list[tuple[int, tuple[Any, ...]]], conn: Connection) -> None:
    async def main() -> None:
        async with stores(url, WRITERS) as writers:
            conn.send("ready")
            await asyncio.to_thread(_recv, conn)
            done = await _gather(writers, op, calls)
            conn.send([done[i] if not isinstance(done[i], BaseException) else repr(done[i]) for i, _ in calls])

    asyncio.run(main())


def spread_for(name: str, tmp: Path) -> Iterator[Spread]:
    backend = "sqlite" if name == "sqlite" else "postgresql"
    for url in backends.database_url(backend, tmp):
        yield Spread(url, 2 if name.endswith("2-processes") else 1)


@pytest.fixture(params=SPREADS)
def spread(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Spread]:
    yield from spread_for(str(request.param), tmp_path)

"""A write that gives up waiting for SQLite's write lock (another process holds it past the
work's deadline) answers Busy and leaves nothing behind: the lock holder lets go around that
deadline, over and over, and every next write succeeds. Before, the waiting thread could begin
a transaction on the shared connection after its caller gave up, and every later write failed
until a restart."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from bot import deadlines
from bot.domain.errors import Busy
from bot.store.sqlite import SqliteStore

NOW = datetime(2026, 12, 7, tzinfo=UTC)
ROUNDS = 50
BUDGET = 0.6  # the work's deadline; the wait for the lock may use it less deadlines.MARGIN


async def test_giving_up_on_the_write_lock_never_wedges_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(str(path))
    await store.open()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    gave_up = wrote = 0
    try:
        for n in range(ROUNDS):
            other.execute("BEGIN IMMEDIATE")
            # Let go around the moment the waiting write gives up: a little before or after it.
            hold = BUDGET - deadlines.MARGIN + random.uniform(-0.05, 0.05)
            release = threading.Timer(hold, lambda: other.execute("COMMIT"))
            release.start()
            try:
                with deadlines.within(BUDGET):
                    async with store.write() as tx:
                        await tx.facts.put(f"round-{n}", "waited")
                wrote += 1
            except Busy:
                gave_up += 1
            release.join()
            async with store.write() as tx:  # no deadline: it simply waits its turn, and must work
                await tx.facts.put(f"after-{n}", "written")
            async with store.read() as r:
                assert await r.facts.get(f"after-{n}") == "written"
        assert gave_up + wrote == ROUNDS
        probe = sqlite3.connect(path, isolation_level=None)
        probe.execute("BEGIN IMMEDIATE")  # another process can still write the file
        probe.execute("ROLLBACK")
        probe.close()
    finally:
        other.close()
        await store.close()

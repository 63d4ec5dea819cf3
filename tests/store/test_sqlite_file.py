"""What only the SQLite backend has: its pragmas, idempotent migrations of the file, and an
upgrade from a file written before assignments became the one record of reviewers."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import StorageFailure
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.migrations import available, migrate

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def test_running_migrations_twice_changes_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    first = migrate(conn)
    schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrate(conn) == first == available()[-1][0]
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    conn.close()


async def test_the_file_is_in_wal_mode_and_foreign_keys_hold(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"))
    await store.open()
    try:
        conn = sqlite3.connect(tmp_path / "s.db")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
        with pytest.raises(StorageFailure):  # an assignment of a request that does not exist
            async with store.write() as tx:
                await tx.assignments.assign(404, "U0SENIOR1", NOW, "routed", new=True)
    finally:
        await store.close()


async def test_an_older_file_keeps_who_reviews_what(tmp_path: Path) -> None:
    """Request 1 was escalated from S1 to S2 and approved by S2; request 2 lost S1 to nobody."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    steps = [(v, sql) for v, sql in available() if v <= 9]
    for _version, sql in steps:
        conn.executescript(sql)
    conn.execute(f"PRAGMA user_version = {steps[-1][0]}")
    stamp = "2026-11-01T00:00:00.000000Z"
    for rid, status, reviewer in ((1, "approved", "U0S2"), (2, "pending", None)):
        conn.execute(
            "INSERT INTO requests (id, requester, title, url, ai_assisted, status, sign_off_required, policy_reason,"
            " created_at, updated_at, reviewer) VALUES (?, 'U0J', 't', 'u', 1, ?, 1, 'r', ?, ?, ?)",
            (rid, status, stamp, stamp, reviewer),
        )
    conn.executemany(
        "INSERT INTO assignments (request_id, reviewer, assigned_at, how, active) VALUES (?, ?, ?, 'routed', 0)",
        [(1, "U0S1", "2026-11-01T00:00:00.000000Z"), (1, "U0S2", "2026-11-01T01:00:00.000000Z"),
         (2, "U0S1", "2026-11-01T00:00:00.000000Z")],
    )  # fmt: skip
    conn.close()
    store = SqliteStore(str(path))
    await store.open()
    try:
        async with store.read() as r:
            first, second = await r.requests.get(1), await r.requests.get(2)
        assert first is not None and first.reviewer == "U0S2"
        assert second is not None and second.reviewer is None
    finally:
        await store.close()


async def test_reads_run_in_reader_threads_and_the_loop_goes_on(tmp_path: Path) -> None:
    """A read that takes a while (here a query counting to three million) runs on an aiosqlite
    connection's own thread: the event loop keeps running other work all the while."""
    store = SqliteStore(str(tmp_path / "s.db"))
    await store.open()
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    try:
        beside = asyncio.create_task(other_work())
        await asyncio.sleep(0.02)
        async with store.read() as r:
            started = ticks
            row = await r.executor.one(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000)"
                " SELECT COUNT(*) AS n FROM c"
            )
            during = ticks - started
        beside.cancel()
        assert row is not None and row["n"] == 3_000_000
        assert during >= 5, f"the loop ran {during} times while the read ran"
    finally:
        await store.close()

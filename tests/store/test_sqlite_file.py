"""What only the SQLite backend has: its pragmas, idempotent migrations of the file, and an
upgrade from a file written before assignments became the one record of reviewers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

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


async def test_pragmas_are_in_force(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"))
    await store.open()
    try:
        assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await store.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await store.fetchone("PRAGMA busy_timeout"))[0] >= 5000
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

"""Migrations are idempotent and refuse a newer schema; the audit table is append-only and chained."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from bot.domain.errors import ConfigurationError
from bot.store import audit
from bot.store.audit import GENESIS, AuditEntry, canonical, chain_hash
from bot.store.db import Database
from bot.store.migrations import available, migrate

NOW = datetime(2026, 11, 27, tzinfo=UTC)


async def test_running_migrations_twice_changes_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        first = await migrate(conn)
        schema = await (await conn.execute("SELECT sql FROM sqlite_master ORDER BY name")).fetchall()
        assert await migrate(conn) == first == available()[-1][0]
        assert await (await conn.execute("SELECT sql FROM sqlite_master ORDER BY name")).fetchall() == schema


async def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA user_version = 999")
    db = Database(path)
    with pytest.raises(ConfigurationError) as info:
        await db.open()
    await db.close()
    assert info.value.setting == "DATABASE_URL"
    assert "schema version 999" in info.value.message


async def test_audit_rows_cannot_be_changed_or_deleted_and_are_chained(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "s.db"))
    await db.open()
    try:
        async with db.transaction() as conn:
            await audit.append(conn, NOW, AuditEntry("U1", "requested", 1, "why", {"a": 1}))
            await audit.append(conn, NOW, AuditEntry("U2", "decided", 1))
        raw = sqlite3.connect(db.path)
        for sql in ("UPDATE audit SET actor = 'X'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                raw.execute(sql)
        rows = raw.execute(
            "SELECT seq, at, actor, action, request_id, reason, details, prev_hash, hash FROM audit"
        ).fetchall()
        raw.close()
        assert [r[2] for r in rows] == ["U1", "U2"]
        prev = GENESIS
        for seq, at, actor, action, request_id, reason, details, prev_hash, digest in rows:
            assert prev_hash == prev
            assert digest == chain_hash(prev, canonical(seq, at, actor, action, request_id, reason, details))
            prev = digest
    finally:
        await db.close()


async def test_pragmas_are_in_force(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "s.db"))
    await db.open()
    try:
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
        assert (await db.fetchone("PRAGMA busy_timeout"))[0] >= 5000  # type: ignore[index]
    finally:
        await db.close()

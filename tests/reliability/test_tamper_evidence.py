"""The audit trail is append-only, and an edit of the database is detectable: `signoff audit
verify` names exactly the row that was changed, sealed into the chain or still waiting to be.
`export` writes a stable schema."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.audit import AuditEntry
from bot.services.audit_sequencer import seal_audit
from bot.store import store_for
from bot.store.sqlite import SqliteStore
from bot.store.unit_of_work import Store

T0 = datetime(2026, 11, 1, tzinfo=UTC)


async def write_rows(store: Store, rows: int, first: int = 0) -> None:
    async with store.write() as tx:
        for i in range(first, first + rows):
            entry = AuditEntry(f"U{i % 7}", "decided" if i % 3 else "requested", i // 3 + 1, None, {"n": i})
            await tx.audit.append(T0 + timedelta(minutes=i), entry)


async def trail(path: Path, rows: int) -> None:
    """``rows`` rows written and sealed, as a running bot leaves them."""
    store = SqliteStore(str(path))
    await store.open()
    try:
        await write_rows(store, rows)
        assert (await seal_audit(store)).rows == rows
    finally:
        await store.close()


def signoff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60)


async def test_update_and_delete_fail_every_time(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    await trail(path, 20)
    conn = sqlite3.connect(path)
    statements = [
        "UPDATE audit SET actor = 'X' WHERE seq = 5",
        "UPDATE audit SET hash = 'x'",
        "UPDATE audit SET seq = NULL, prev_hash = NULL, hash = NULL, row_hash = 'x' WHERE seq = 20",  # unsealed again
        "DELETE FROM audit WHERE seq = 20",
        "DELETE FROM audit",
        "INSERT OR REPLACE INTO audit (seq, at, actor, action, details, prev_hash, hash)"
        " VALUES (3, 'a', 'b', 'c', '{}', 'd', 'e')",
        "INSERT INTO audit (at, actor, action, details, prev_hash, hash) VALUES ('a', 'b', 'c', '{}', 'forged', 'e')",
    ]
    for sql in statements:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 20
    conn.close()
    assert signoff("audit", "verify", "--database", f"sqlite:///{path}").returncode == 0


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 10,000-row trail, written by the real code once; each test edits its own copy."""
    path = tmp_path_factory.mktemp("trail") / "a.db"
    asyncio.run(trail(path, 10_000))
    return path


def _copy(source: Path, target: Path) -> None:
    """A copy of the database as SQLite sees it (its write-ahead log included), not only its file."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.mark.parametrize("k", [1, 500, 9_999, 10_000])
def test_flipping_one_byte_in_row_k_is_reported_as_row_k(tmp_path: Path, ten_thousand: Path, k: int) -> None:
    path = tmp_path / "a.db"
    _copy(ten_thousand, path)
    ok = signoff("audit", "verify", "--database", str(path))
    assert ok.returncode == 0 and ok.stdout.startswith("audit chain intact: 10000 rows, last hash ")
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_seal_only")
    actor = conn.execute("SELECT actor FROM audit WHERE seq = ?", (k,)).fetchone()[0]
    flipped = chr(ord(actor[0]) ^ 1) + actor[1:]
    conn.execute("UPDATE audit SET actor = ? WHERE seq = ?", (flipped, k))
    conn.commit()
    conn.close()
    broken = signoff("audit", "verify", "--database", str(path))
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[0] == (
        f"audit chain BROKEN at row {k}: audit row {k}: its contents do not match its hash (the row was changed)"
    )


async def test_a_deleted_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    await trail(path, 30)
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq = 12")
    conn.commit()
    conn.close()
    broken = signoff("audit", "verify", "--database", str(path))
    assert broken.returncode == 1 and "BROKEN at row 12" in broken.stderr


async def test_export_writes_a_stable_schema(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    await trail(path, 6)
    out = signoff("audit", "export", "--database", str(path), "--format", "jsonl", "--since", "2026-11-01T00:02:00")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["seq"] for r in lines] == [3, 4, 5, 6]
    assert set(lines[0]) == {"seq", "at", "actor", "action", "request_id", "reason", "details", "hash"}
    assert lines[0]["request_id"] == "CR-1" and lines[0]["details"] == {"n": 2}
    out = signoff("audit", "export", "--database", str(path), "--until", "2026-11-01T00:02:00")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["seq", "at", "actor", "action", "request_id", "reason", "details", "hash"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    bad = signoff("audit", "export", "--database", str(path), "--since", "yesterday")
    assert bad.returncode == 3 and "--since 'yesterday' is not a date" in bad.stderr
    missing = signoff("audit", "verify", "--database", str(tmp_path / "nope.db"))
    assert missing.returncode == 3 and "no database at" in missing.stderr


def _tamper(url: str, sql: str) -> None:
    """Change the database as its owner could: the guard set aside, one statement, guard back."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER IF EXISTS audit_seal_only")
        conn.execute(sql)
        conn.commit()
        conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg, pg.transaction():
        pg.execute("ALTER TABLE audit DISABLE TRIGGER audit_guard")
        pg.execute(sql.encode())
        pg.execute("ALTER TABLE audit ENABLE TRIGGER audit_guard")


async def test_a_changed_row_is_found_sealed_or_not_yet(database_url: str) -> None:
    store = store_for(database_url)
    await store.open()
    try:
        await write_rows(store, 10)
        assert (await seal_audit(store)).rows == 10
        await write_rows(store, 3, first=10)  # written, not yet sealed
        ok = signoff("audit", "verify", "--database", database_url)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith("audit chain intact: 10 rows, last hash ")
        assert "3 rows written but not yet sealed into the chain" in ok.stdout

        [second] = await _ids(store, "seq IS NULL", offset=1)
        _tamper(database_url, f"UPDATE audit SET actor = 'U9' WHERE id = {second}")
        broken = signoff("audit", "verify", "--database", database_url)
        assert broken.returncode == 1
        assert broken.stderr.startswith(f"audit trail BROKEN: row {second}, written but not yet sealed")
        sealed = await seal_audit(store)  # the sequencer seals up to the changed row, never past it
        assert (sealed.rows, sealed.changed) == (1, second)
        assert await _ids(store, "seq IS NULL") == (await _ids(store, f"id >= {second}"))[:2]

        _tamper(database_url, "UPDATE audit SET details = '{\"n\":99}' WHERE seq = 4")
        broken = signoff("audit", "verify", "--database", database_url)
        assert broken.returncode == 1 and "BROKEN at row 4" in broken.stderr
    finally:
        await store.close()


async def _ids(store: Store, where: str, offset: int = 0) -> list[int]:
    async with store.read() as r:
        rows = await r.executor.many(f"SELECT id FROM audit WHERE {where} ORDER BY id LIMIT 10 OFFSET {offset}")
    return [int(row["id"]) for row in rows][: 1 if offset else None]

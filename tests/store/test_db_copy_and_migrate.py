"""`signoff db copy` moves a SQLite deployment to PostgreSQL, audit chain included, and refuses a
target that is not empty; `signoff db migrate` brings a schema up to date on its own."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import psycopg

from bot.slack import ids
from bot.store import store_for
from tests.harness import running


async def signoff(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_sqlite_deployment_moves_to_postgresql_whole(tmp_path: Path, postgres_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'signoff.db'}"
    async with running(tmp_path, DATABASE_URL=sqlite_url) as h:
        approved = await h.ask("U0JUNIOR1", title="Approved one")
        await h.driver.click("U0SENIOR1", ids.APPROVE, approved.removeprefix("CR-"))
        pending = await h.ask("U0JUNIOR2", title="Still pending")
        await h.settle()
        tables = ("requests", "assignments", "decisions", "audit", "outbox", "slack_messages", "meta")
        before = {t: (await h.fetchone(f"SELECT COUNT(*) FROM {t}"))[0] for t in tables}
    code, out, err = await signoff("db", "copy", "--from", sqlite_url, "--to", postgres_url)
    assert code == 0, err
    assert "audit chain intact on the target" in out
    with psycopg.connect(postgres_url) as conn:
        after = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]
    assert after == before and before["audit"] > 0
    code, out, _ = await signoff("audit", "verify", "--database", postgres_url)
    assert code == 0 and out.startswith(f"audit chain intact: {before['audit']} rows")
    # The bot runs on the copy: what was pending still is, with its reviewer, and new ids continue.
    async with running(tmp_path, DATABASE_URL=postgres_url) as h:
        req = await h.get(pending)
        assert req.status.value == "pending" and req.reviewer is not None
        assert (await h.get(approved)).status.value == "approved"
        newer = await h.ask("U0JUNIOR1", title="After the move")
        assert int(newer.removeprefix("CR-")) == int(pending.removeprefix("CR-")) + 1
    code, _, err = await signoff("db", "copy", "--from", sqlite_url, "--to", postgres_url)
    assert code == 3 and "the target database is not empty" in err


async def test_copy_names_what_is_wrong_with_its_arguments(tmp_path: Path) -> None:
    code, _, err = await signoff("db", "copy", "--from", f"sqlite:///{tmp_path / 'none.db'}", "--to", "mysql://x/y")
    assert code == 3 and err.strip() == (
        "signoff: --to: must start with sqlite:/// (one process) or postgresql:// (several replicas)"
    )
    code, _, err = await signoff(
        "db", "copy", "--from", f"sqlite:///{tmp_path / 'none.db'}", "--to", f"sqlite:///{tmp_path / 'b.db'}"
    )
    assert code == 3 and f"there is no database at {tmp_path / 'none.db'}" in err


async def test_migrate_brings_a_new_database_up_to_date_and_is_idempotent(postgres_url: str) -> None:
    for _ in range(2):
        code, out, err = await signoff("db", "migrate", "--database", postgres_url)
        assert code == 0, err
        assert out.strip() == "signoff: the postgresql schema is up to date"
    store = store_for(postgres_url)
    await store.open()
    try:
        async with store.read() as r:
            assert await r.requests.count_pending() == 0
    finally:
        await store.close()


async def test_tables_larger_than_a_page_are_copied_whole(tmp_path: Path, postgres_url: str) -> None:
    """Every table is read a page at a time by key; nothing is skipped or read twice across pages."""
    from datetime import UTC, datetime

    from bot.domain.audit import AuditEntry
    from bot.domain.models import Draft, NewRequest, Status
    from bot.store.copy import BATCH

    sqlite_url = f"sqlite:///{tmp_path / 'big.db'}"
    store = store_for(sqlite_url)
    await store.open()
    now = datetime(2026, 11, 29, tzinfo=UTC)
    n = BATCH + 123
    async with store.write() as tx:
        for i in range(n):
            rid = await tx.requests.insert(
                NewRequest(
                    requester="U0JUNIOR1",
                    draft=Draft(title=f"change {i}", url="https://x.example/1", ai_assisted=True),
                    status=Status.PENDING,
                    required=True,
                    policy_reason="r",
                    now=now,
                    source="api",
                    pipeline="ci",
                    idempotency_key=None,
                    idempotency_hash=None,
                )
            )
            for reviewer in ("U0SENIOR1", "U0SENIOR2"):  # two rows per request: the composite key pages too
                await tx.assignments.assign(rid, reviewer, now, "routed", new=True)
            await tx.audit.append(now, AuditEntry("U0JUNIOR1", "requested", rid))
    await store.close()
    code, out, err = await signoff("db", "copy", "--from", sqlite_url, "--to", postgres_url)
    assert code == 0, err
    assert f"audit chain intact on the target ({n} rows)" in out
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT title) FROM requests").fetchone() == (n, n)
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT (request_id, reviewer)) FROM assignments").fetchone() == (
            2 * n,
            2 * n,
        )

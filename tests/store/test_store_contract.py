"""The store contract: every backend behaves the same, with several writers at once.

Each test runs on SQLite and on PostgreSQL. "Several writers" means several store objects
(separate connections, as separate processes or replicas have), never one shared connection,
which would hide the races.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from bot.domain.audit import AuditEntry, verify_rows
from bot.domain.blast_radius import BlastRadius, Destroyed
from bot.domain.errors import ConfigurationError, NotAdmin, RepeatedDelivery
from bot.domain.models import BreakGlass, Draft, Status, Verdict
from bot.domain.outbox import Notice, Outcome
from bot.store import store_for
from bot.store.executor import Changes
from bot.store.unit_of_work import Store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
WRITERS = 3


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
        return int(await tx.requests.insert(**{**fields, **changes}))


async def test_one_of_many_concurrent_decisions_wins(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:
        request_id = await new_request(writers[0])

        async def decide(store: Store, who: str) -> bool:
            async with store.write() as tx:
                req = await tx.requests.get(request_id)
                assert req is not None
                if req.status is not Status.PENDING:
                    return False
                await tx.audit.append(NOW, AuditEntry(who, "decided", request_id))
                return await tx.requests.set_outcome(request_id, status=Status.APPROVED, now=NOW, decided_by=who)

        results = await asyncio.gather(*(decide(writers[i % WRITERS], f"U{i}") for i in range(30)))
        assert results.count(True) == 1
        async with writers[1].read() as r:
            req = await r.requests.peek(request_id)
            assert req is not None and req.status is Status.APPROVED
            assert [row[3] async for row in r.audit.rows() if row[4] == request_id] == ["decided"]


async def test_concurrent_appends_make_one_unbroken_chain(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:

        async def append(store: Store, i: int) -> None:
            async with store.write() as tx:
                await tx.audit.append(NOW + timedelta(seconds=i), AuditEntry(f"U{i}", "refused", None, "x", {"i": i}))

        await asyncio.gather(*(append(writers[i % WRITERS], i) for i in range(60)))
        async with writers[0].read() as r:
            rows = [row async for row in r.audit.rows(batch=7)]
    count, _last, broken = verify_rows(rows)
    assert (count, broken) == (60, None)
    assert sorted(row[2] for row in rows) == sorted(f"U{i}" for i in range(60))


FORGED = "INSERT INTO audit (seq, at, actor, action, details, prev_hash, hash)"


def raw_write(url: str, sql: str) -> None:
    """Write with the driver directly, as someone with database access would."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            conn.execute(sql)
            conn.commit()
        finally:
            conn.close()
        return
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(sql.encode())


async def test_the_audit_trail_refuses_updates_deletes_and_forged_rows(database_url: str) -> None:
    async with stores(database_url) as (store,):
        async with store.write() as tx:
            await tx.audit.append(NOW, AuditEntry("U1", "requested", 1))
        for sql in (
            "UPDATE audit SET actor = 'X'",
            "DELETE FROM audit",
            f"{FORGED} VALUES (2, 'a', 'b', 'c', '{{}}', 'forged', 'e')",
            f"{FORGED} VALUES (7, 'a', 'b', 'c', '{{}}', 'x', 'e')",
        ):
            with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
                raw_write(database_url, sql)
        async with store.read() as r:
            assert [row[2] async for row in r.audit.rows()] == ["U1"]


async def test_a_newer_schema_is_refused_naming_the_setting(database_url: str) -> None:
    async with stores(database_url):
        pass
    raw_write(
        database_url,
        "PRAGMA user_version = 999" if database_url.startswith("sqlite") else "UPDATE schema_version SET version = 999",
    )
    with pytest.raises(ConfigurationError) as info:
        async with stores(database_url):
            pass
    assert info.value.setting == "DATABASE_URL" and "schema version 999" in info.value.message


async def test_another_applications_database_is_refused(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        conn.execute("CREATE TABLE invoices (id INTEGER)")
        conn.commit()
        conn.close()
    else:
        raw_write(database_url, "CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(ConfigurationError) as info:
        async with stores(database_url):
            pass
    assert "another application's tables (invoices)" in info.value.message


async def test_each_outbox_row_is_claimed_by_exactly_one_worker(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:
        async with writers[0].write() as tx:
            await tx.outbox.enqueue_many(NOW, [Notice("summary_post", None, f"C{i}") for i in range(90)])
        claimed: list[int] = []

        async def worker(store: Store, name: str) -> None:
            while True:
                async with store.write(durable=False) as tx:
                    batch = await tx.outbox.claim_due(NOW, timedelta(seconds=30), 7, name)
                if not batch:
                    async with store.read() as r:
                        if not (await r.outbox.backlog())[0] or len(claimed) == 90:
                            return
                    await asyncio.sleep(0.01)
                    continue
                claimed.extend(row.id for row in batch)
                async with store.write(durable=False) as tx:
                    await tx.outbox.record(NOW, [Outcome(row.id, "sent") for row in batch])

        await asyncio.gather(*(worker(writers[i], f"host:1:{i}") for i in range(WRITERS)))
    assert len(claimed) == 90 and len(set(claimed)) == 90


async def test_a_lease_keeps_a_claim_until_it_runs_out(database_url: str) -> None:
    async with stores(database_url, 2) as (a, b):
        async with a.write() as tx:
            await tx.outbox.enqueue(NOW, Notice("summary_post", None, "C1"))
        async with a.write(durable=False) as tx:
            (first,) = await tx.outbox.claim_due(NOW, timedelta(seconds=30), 10, "host:1:a")
        assert not first.maybe_delivered
        async with b.write(durable=False) as tx:
            assert await tx.outbox.claim_due(NOW + timedelta(seconds=29), timedelta(seconds=30), 10, "host:2:b") == []
        async with b.read() as r:
            assert await r.outbox.claim_owners(NOW) == {"host:1:a"}
        async with b.write(durable=False) as tx:
            (again,) = await tx.outbox.claim_due(NOW + timedelta(seconds=31), timedelta(seconds=30), 10, "host:2:b")
        assert again.id == first.id and again.maybe_delivered


async def test_one_requests_messages_are_claimed_in_order(database_url: str) -> None:
    async with stores(database_url) as (store,):
        request_id = await new_request(store)
        async with store.write() as tx:
            await tx.outbox.enqueue_many(
                NOW, [Notice("review_dm", request_id, "U0SENIOR1"), Notice("requester_dm", request_id, "U0JUNIOR1")]
            )
        async with store.write(durable=False) as tx:
            first, second = await tx.outbox.claim_due(NOW, timedelta(seconds=30), 10, "host:1:a")
            await tx.outbox.record(
                NOW,
                [
                    Outcome(first.id, "retry", NOW + timedelta(minutes=1), "slack down: x"),
                    Outcome(second.id, "untried", NOW, "x", counts=False),
                ],
            )
        async with store.write(durable=False) as tx:
            assert await tx.outbox.claim_due(NOW + timedelta(seconds=1), timedelta(seconds=30), 10, "host:1:a") == []
        async with store.write(durable=False) as tx:
            later = await tx.outbox.claim_due(NOW + timedelta(minutes=2), timedelta(seconds=30), 10, "host:1:a")
        assert [row.id for row in later] == [first.id, second.id]


async def test_one_idempotency_key_creates_one_request_whatever_the_concurrency(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:

        async def create(store: Store) -> int:
            async with store.write() as tx:
                found = await tx.requests.by_idempotency_key("api:ci:build-7")
                if found is not None:
                    return found[0].id
                return await tx.requests.insert(
                    requester="U0JUNIOR1",
                    draft=Draft(title="t", url="https://example.com", ai_assisted=True),
                    status=Status.PENDING,
                    required=True,
                    policy_reason="r",
                    now=NOW,
                    source="api",
                    pipeline="ci",
                    idempotency_key="api:ci:build-7",
                    idempotency_hash="h",
                )

        ids = await asyncio.gather(*(create(writers[i % WRITERS]) for i in range(20)))
        assert len(set(ids)) == 1
        async with writers[0].read() as r:
            assert await r.requests.count_pending() == 1


async def test_a_delivery_key_admits_its_work_once(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:

        async def handle(store: Store, i: int) -> bool:
            try:
                async with store.write(delivery="slack:Ev123") as tx:
                    await tx.audit.append(NOW, AuditEntry(f"U{i}", "requested"))
            except RepeatedDelivery:
                return False
            return True

        results = await asyncio.gather(*(handle(writers[i % WRITERS], i) for i in range(12)))
        assert results.count(True) == 1
        assert await writers[2].seen("slack:Ev123")
        assert not await writers[2].seen("slack:Ev124")


async def test_a_failed_transaction_leaves_nothing_and_forgets_its_delivery(database_url: str) -> None:
    async with stores(database_url) as (store,):
        with pytest.raises(RuntimeError):
            async with store.write(delivery="slack:Ev9") as tx:
                await tx.audit.append(NOW, AuditEntry("U1", "requested"))
                await tx.outbox.enqueue(NOW, Notice("summary_post", None, "C1"))
                raise RuntimeError("boom")
        assert not await store.seen("slack:Ev9")
        async with store.read() as r:
            assert await r.audit.head() is None
            assert (await r.outbox.backlog())[0] == 0


async def test_a_refusal_is_audited_committed_and_raised(database_url: str) -> None:
    async with stores(database_url) as (store,):
        with pytest.raises(NotAdmin):
            async with store.write(delivery="slack:Ev1") as tx:
                await tx.refuse(NotAdmin("no"), "U0NOBODY", None, "policy_end", NOW)
                raise AssertionError("refuse() ends the transaction")
        async with store.read() as r:
            rows = [row async for row in r.audit.rows()]
        assert [(row[2], row[3], row[5]) for row in rows] == [("U0NOBODY", "refused", "not_admin")]
        assert await store.seen("slack:Ev1")


async def test_commits_tell_subscribers_what_changed(database_url: str) -> None:
    async with stores(database_url) as (store,):
        heard: list[Changes] = []
        store.subscribe(heard.append)
        request_id = await new_request(store)
        async with store.write() as tx:
            await tx.outbox.enqueue(NOW, Notice("review_dm", request_id, "U0SENIOR1"))
        with pytest.raises(RuntimeError):
            async with store.write() as tx:
                await tx.requests.set_outcome(request_id, status=Status.DENIED, now=NOW)
                raise RuntimeError("rolled back: nobody hears of it")
        assert heard == [Changes(frozenset({request_id})), Changes(frozenset(), notices=True)]


async def test_check_then_act_under_a_job_lock_acts_once(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:

        async def sweep(store: Store) -> bool:
            async with store.write() as tx:
                await tx.facts.serialise("summary_last_slot")
                if await tx.facts.get("slot") == "09:00":
                    return False
                await tx.facts.put("slot", "09:00")
                await tx.outbox.enqueue(NOW, Notice("summary_post", None, "C1"))
                return True

        results = await asyncio.gather(*(sweep(writers[i % WRITERS]) for i in range(15)))
        assert results.count(True) == 1
        async with writers[0].read() as r:
            assert (await r.outbox.backlog())[0] == 1


async def test_opening_twice_and_at_once_migrates_once(database_url: str) -> None:
    async with stores(database_url) as (first,), first.write() as tx:
        await tx.facts.put("k", "v")
    # Three processes starting together on the same database, then a restart.
    await asyncio.gather(*(_open_close(database_url) for _ in range(3)))
    async with stores(database_url) as (again,), again.read() as r:
        assert await r.facts.get("k") == "v"


async def _open_close(url: str) -> None:
    async with stores(url):
        pass


async def test_a_commit_on_one_replica_wakes_waiters_on_another(postgres_url: str) -> None:
    async with stores(postgres_url, 2) as (a, b):
        heard: asyncio.Queue[Changes] = asyncio.Queue()
        b.subscribe(heard.put_nowait)
        await asyncio.sleep(0.3)  # b is listening
        request_id = await new_request(a)
        changes = await asyncio.wait_for(heard.get(), timeout=5)
        assert changes.requests == frozenset({request_id}) and not changes.notices


async def test_what_a_change_destroys_and_its_break_glass_read_back_alike(database_url: str) -> None:
    plan = BlastRadius(
        ("a" * 64, "b" * 64),
        ("terraform", "pulumi"),
        creates=1,
        deletes=1,
        replaces=1,
        resources=(Destroyed("aws_db_instance.main", "replace", "engine"), Destroyed("aws_instance.x", "delete")),
    )
    async with stores(database_url) as (store,):
        request_id = await new_request(
            store,
            draft=Draft("t", "https://e.com", True, destructive=None, plan=plan),
            status=Status.APPROVED,
            approvals_needed=2,
            break_glass="Checkout is down",
            decided_by="U0JUNIOR1",
        )
        async with store.write() as tx:
            await tx.assignments.assign(request_id, "U0SENIOR1", NOW, "routed")
        async with store.read() as r:
            req = await r.requests.peek(request_id)
            assert req is not None and req.draft.plan == plan and req.draft.destructive is None
            assert req.break_glass == BreakGlass("Checkout is down", Verdict.PENDING)
            assert (req.decided_by, req.approvals_needed, req.awaiting_hindsight) == ("U0JUNIOR1", 2, True)
            assert [x.id for x in await r.requests.awaiting_hindsight(10)] == [request_id]
            assert await r.assignments.overdue(NOW + timedelta(days=1), unreminded_only=False) == [
                (request_id, "U0SENIOR1")
            ]


async def test_one_of_many_concurrent_verdicts_counts(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:
        request_id = await new_request(writers[0], status=Status.APPROVED, break_glass="DNS", decided_by="U0JUNIOR1")

        async def judge(store: Store, i: int) -> bool:
            verdict = Verdict.JUSTIFIED if i % 2 else Verdict.NOT_JUSTIFIED
            async with store.write() as tx:
                await tx.requests.get(request_id)
                return await tx.requests.set_verdict(request_id, verdict, f"U{i}", "note", NOW)

        results = await asyncio.gather(*(judge(writers[i % WRITERS], i) for i in range(20)))
        assert results.count(True) == 1
        async with writers[1].read() as r:
            req = await r.requests.peek(request_id)
            assert req is not None and req.break_glass is not None and not req.awaiting_hindsight
            assert await r.requests.count_awaiting_hindsight() == 0


async def test_concurrent_approvals_count_each_senior_once(database_url: str) -> None:
    async with stores(database_url, WRITERS) as writers:
        request_id = await new_request(writers[0])

        async def approve(store: Store, who: str) -> bool:
            async with store.write() as tx:
                await tx.requests.get(request_id)
                return await tx.decisions.record(request_id, who, "approve", None, NOW)

        people = [f"U{i % 4}" for i in range(24)]  # 4 people, each trying 6 times at once
        results = await asyncio.gather(*(approve(writers[i % WRITERS], who) for i, who in enumerate(people)))
        assert results.count(True) == 4
        async with writers[2].read() as r:
            req = await r.requests.peek(request_id)
            assert req is not None and req.approvals == 4
            assert sorted(who for who, _ in await r.decisions.approvals_at(request_id)) == ["U0", "U1", "U2", "U3"]

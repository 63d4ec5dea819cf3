"""The store contract: every backend behaves the same, with several writers at once.

Each test runs on SQLite and on PostgreSQL. "Several writers" means several store objects
(separate connections, as separate processes or replicas have), never one shared connection,
which would hide the races.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import psycopg
import pytest

from bot.domain.audit import AuditEntry
from bot.domain.errors import ConfigurationError, NotAdmin
from bot.domain.models import BreakGlass, Draft, FinalReason, Status, Verdict
from bot.domain.outbox import Failure, Notice, Outcome
from bot.domain.plan_summary import Destroyed, PlanSummary
from bot.store.executor import Changes
from tests.store.stores import NOW, new_request, sealed, stores

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
        await sealed(store)
        async with store.write() as tx:  # a second row, written but not yet sealed
            await tx.audit.append(NOW, AuditEntry("U2", "approved", 1))
        for sql in (
            "UPDATE audit SET actor = 'X'",
            "UPDATE audit SET actor = 'X' WHERE seq IS NULL",  # an unsealed row is no less fixed
            "UPDATE audit SET seq = 7, prev_hash = 'x', hash = 'y' WHERE seq IS NULL",  # sealed, not as the next link
            "DELETE FROM audit",
            "DELETE FROM audit WHERE seq IS NULL",
            f"{FORGED} VALUES (2, 'a', 'b', 'c', '{{}}', 'forged', 'e')",
            f"{FORGED} VALUES (7, 'a', 'b', 'c', '{{}}', 'x', 'e')",
        ):
            with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
                raw_write(database_url, sql)
        await sealed(store)
        async with store.read() as r:
            assert [row[2] async for row in r.audit.rows()] == ["U1", "U2"]


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


async def test_a_lapsed_claim_cannot_record_over_the_live_one(database_url: str) -> None:
    """A replica whose lease ran out (it stalled) and whose try failed must not clear the claim of
    the replica that took the row over: that would let a third deliver it again."""
    async with stores(database_url, 2) as (a, b):
        async with a.write() as tx:
            await tx.outbox.enqueue(NOW, Notice("summary_post", None, "C1"))
        async with a.write(durable=False) as tx:
            (first,) = await tx.outbox.claim_due(NOW, timedelta(seconds=30), 10, "host:1:a")
        later = NOW + timedelta(seconds=31)
        async with b.write(durable=False) as tx:
            (taken,) = await tx.outbox.claim_due(later, timedelta(seconds=30), 10, "host:2:b")
        async with a.write(durable=False) as tx:  # the stalled one comes back with its failure
            await tx.outbox.record(later, [Outcome(first.id, "retry", later, "timeout")], "host:1:a")
        async with b.read() as r:
            assert await r.outbox.claim_owners(later) == {"host:2:b"}
        async with b.write(durable=False) as tx:
            assert await tx.outbox.claim_due(later, timedelta(seconds=30), 10, "host:3:c") == []
            await tx.outbox.record(later, [Outcome(taken.id, "sent")], "host:2:b")
        async with b.read() as r:
            assert await r.outbox.claim_owners(later) == set()


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
                    Outcome(first.id, "retry", NOW + timedelta(minutes=1), "x", failure=Failure.SLACK_DOWN),
                    Outcome(second.id, "untried", NOW, "x", counts=False),
                ],
                "host:1:a",
            )
        async with store.write(durable=False) as tx:
            assert await tx.outbox.claim_due(NOW + timedelta(seconds=1), timedelta(seconds=30), 10, "host:1:a") == []
        async with store.write(durable=False) as tx:
            later = await tx.outbox.claim_due(NOW + timedelta(minutes=2), timedelta(seconds=30), 10, "host:1:a")
        assert [row.id for row in later] == [first.id, second.id]


async def test_a_failed_transaction_leaves_nothing_and_forgets_its_delivery(database_url: str) -> None:
    async with stores(database_url) as (store,):
        with pytest.raises(RuntimeError):
            async with store.write(receipt="slack:Ev9") as tx:
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
            async with store.write(receipt="slack:Ev1") as tx:
                await tx.refuse(NotAdmin("no"), "U0NOBODY", None, "policy_end", NOW)
                raise AssertionError("refuse() ends the transaction")
        await sealed(store)
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
                await tx.requests.set_outcome(
                    request_id, status=Status.DENIED, now=NOW, requested_at=NOW, final=FinalReason.DENIED
                )
                raise RuntimeError("rolled back: nobody hears of it")
        assert heard == [Changes(frozenset({request_id})), Changes(frozenset(), notices=True)]


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
    plan = PlanSummary(
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
            req = await r.requests.get(request_id)
            assert req is not None and req.draft.plan == plan and req.draft.destructive is None
            assert req.break_glass == BreakGlass("Checkout is down", Verdict.PENDING)
            assert (req.decided_by, req.approvals_needed, req.awaiting_review_after_the_fact) == ("U0JUNIOR1", 2, True)
            assert [x.id for x in await r.requests.awaiting_review_after_the_fact(10)] == [request_id]
            assert await r.assignments.overdue(NOW + timedelta(days=1), unreminded_only=False, limit=10) == [
                (request_id, "U0SENIOR1")
            ]


async def test_a_batch_of_requests_reads_back_as_one_by_one(database_url: str) -> None:
    """The outbox reads a batch's requests, active reviewers and approvals in one statement each;
    they read back exactly as each request's own reads do, on both backends."""
    async with stores(database_url) as (store,):
        first = await new_request(store, draft=Draft("One", "https://e.com/1", True, destructive_by="hook-pattern"))
        second = await new_request(store)
        quiet = await new_request(store)
        async with store.write() as tx:
            for request_id, reviewer in ((first, "U0SENIOR2"), (first, "U0SENIOR1"), (second, "U0SENIOR1")):
                await tx.assignments.assign(request_id, reviewer, NOW, "routed")
            await tx.decisions.record(first, "U0SENIOR2", "approve", None, NOW)
            await tx.decisions.record(first, "U0SENIOR1", "approve", None, NOW + timedelta(seconds=1))
            await tx.decisions.record(second, "U0SENIOR1", "deny", "no", NOW)
        ids = [first, second, quiet, 999_999]
        async with store.read() as r:
            many = await r.requests.many(ids)
            assert sorted(many) == [first, second, quiet]  # one that does not exist is left out
            assert many[first] == await r.requests.get(first)
            assert many[first].draft.destructive_by == "hook-pattern"
            active = await r.assignments.active_of(ids)
            approvals = await r.decisions.approvals_of(ids)
            for request_id in ids:
                assert active[request_id] == await r.assignments.active(request_id)
                assert approvals[request_id] == await r.decisions.approvals_at(request_id)
            assert active[first] == ["U0SENIOR1", "U0SENIOR2"]
            assert [who for who, _at in approvals[first]] == ["U0SENIOR2", "U0SENIOR1"]  # first first
            assert approvals[second] == [] and active[quiet] == []
            assert await r.requests.many([]) == {}


async def test_message_keys_are_found_by_their_own_prefix_only(database_url: str) -> None:
    """``review:1:`` never finds CR-10's keys, and a prefix that does not end at ``:`` is refused."""
    async with stores(database_url) as (store,):
        async with store.write() as tx:
            await tx.messages.save_many(
                [("review:1:U0A", "D1", "1.1"), ("review:10:U0B", "D2", "1.2"), ("claim:1", "C1", "1.3"),
                 ("claim:10", "C1", "1.4"), ("reminder:1:U0A:x", "D1", "1.5")]
            )  # fmt: skip
        async with store.read() as r:
            assert [k for k, _c, _t in await r.messages.with_prefix("review:1:")] == ["review:1:U0A"]
            found = await r.messages.under(["review:1:", "reminder:1:"], ["claim:1"])
            assert [k for k, _c, _t in found] == ["claim:1", "reminder:1:U0A:x", "review:1:U0A"]
            assert await r.messages.where("claim:1") == ("C1", "1.3")
            with pytest.raises(ValueError):
                await r.messages.with_prefix("claim:1")

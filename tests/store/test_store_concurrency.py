"""The store contract under concurrency: many writers at once, each with its own connection, on a
SQLite file, on PostgreSQL, and on PostgreSQL from two processes. Whatever the interleaving
(READ COMMITTED on PostgreSQL, one writer at a time on SQLite), each check-then-act acts once,
counts are exact, and no transaction deadlocks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.audit import AuditEntry, verify_rows
from bot.domain.errors import RepeatedDelivery
from bot.domain.models import Draft, FinalReason, NewRequest, Status, Verdict
from bot.domain.outbox import Notice, Outcome
from bot.domain.timestamps import utc_text
from bot.services.audit_sequencer import seal_audit
from bot.store.unit_of_work import Store
from tests.store.stores import NOW, Spread, new_request, sealed, spread, stores

__all__ = ["spread"]  # the fixture


async def _decide(store: Store, request_id: int, who: str) -> bool:
    async with store.write() as tx:
        req = await tx.requests.get_for_update(request_id)
        assert req is not None
        if req.status is not Status.PENDING:
            return False
        await tx.audit.append(NOW, AuditEntry(who, "decided", request_id))
        return await tx.requests.set_outcome(
            request_id, status=Status.APPROVED, now=NOW, requested_at=NOW, final=FinalReason.APPROVED, decided_by=who
        )


async def test_one_of_many_concurrent_decisions_wins(spread: Spread) -> None:
    async with stores(spread.url) as (store,):
        request_id = await new_request(store)
    results = await spread.run(_decide, [(request_id, f"U{i}") for i in range(30)])
    assert results.count(True) == 1 and results.count(False) == 29
    async with stores(spread.url) as (store,):
        await sealed(store)
        async with store.read() as r:
            req = await r.requests.get(request_id)
            assert req is not None and req.status is Status.APPROVED
            assert [row[3] async for row in r.audit.rows() if row[4] == request_id] == ["decided"]


async def _approve_until_enough(store: Store, request_id: int, who: str) -> str:
    """What the approve path does: lock, count the approvals, add one, decide when there are enough."""
    async with store.write() as tx:
        req = await tx.requests.get_for_update(request_id)
        assert req is not None
        if req.status is not Status.PENDING:
            return "too late"
        if not await tx.decisions.record(request_id, who, "approve", None, NOW):
            return "again"
        if req.approvals + 1 < req.approvals_needed:
            return "recorded"
        await tx.requests.set_outcome(
            request_id, status=Status.APPROVED, now=NOW, requested_at=NOW, final=FinalReason.APPROVED, decided_by=who
        )
        return "decided"


async def test_seniors_approving_at_once_reach_the_count_exactly_once(spread: Spread) -> None:
    """Two, three and five seniors approving at once: each request is decided by exactly one of
    them, after exactly its number of approvals (a count read before the lock was taken would
    leave every approver seeing one approval short, and the request pending for good)."""
    async with stores(spread.url) as (store,):
        needs = {await new_request(store, approvals_needed=n): n for n in (2, 3, 5) for _ in range(4)}
    calls = [(rid, f"U0SENIOR{k}") for rid, n in needs.items() for k in range(n) for _ in range(2)]
    results = await spread.run(_approve_until_enough, calls)
    for rid, n in needs.items():
        outcomes = sorted(r for (r_id, _), r in zip(calls, results, strict=True) if r_id == rid)
        assert outcomes.count("decided") == 1, outcomes
        assert outcomes.count("recorded") == n - 1, outcomes
    async with stores(spread.url) as (store,), store.read() as r:
        for rid, n in needs.items():
            req = await r.requests.get(rid)
            assert req is not None and (req.status, req.approvals) == (Status.APPROVED, n)


async def _append_and_seal(store: Store, i: int) -> int:
    """A write transaction with an audit row, then the sequencer's turn, as every process runs it."""
    async with store.write() as tx:
        await tx.audit.append(NOW + timedelta(seconds=i), AuditEntry(f"U{i}", "refused", None, "x", {"i": i}))
    return (await seal_audit(store)).rows


async def test_concurrent_appends_and_sequencers_make_one_unbroken_chain(spread: Spread) -> None:
    """Sixty writers each append a row and then run the sequencer, all at once (on two processes
    in the ``postgresql-2-processes`` shape): every row is sealed exactly once, in one chain."""
    results = await spread.run(_append_and_seal, [(i,) for i in range(60)])
    async with stores(spread.url) as (store,):
        last_turn = (await seal_audit(store)).rows  # whatever a turn still running missed
        async with store.read() as r:
            rows = [row async for row in r.audit.rows(batch=7)]
            assert not await r.audit.any_unsealed()
    assert sum(results) + last_turn == 60  # each row sealed by exactly one turn
    count, _last, broken = verify_rows(rows)
    assert (count, broken) == (60, None)
    assert sorted(row[2] for row in rows) == sorted(f"U{i}" for i in range(60))


async def _claim_all(store: Store, name: str) -> list[int]:
    claimed: list[int] = []
    while True:
        async with store.write(durable=False) as tx:
            batch = await tx.outbox.claim_due(NOW, timedelta(seconds=30), 7, name)
        if not batch:
            async with store.read() as r:
                if not (await r.outbox.backlog())[0]:
                    return claimed
            await asyncio.sleep(0.01)
            continue
        claimed.extend(row.id for row in batch)
        async with store.write(durable=False) as tx:
            await tx.outbox.record(NOW, [Outcome(row.id, "sent") for row in batch], name)


async def test_each_outbox_row_is_claimed_by_exactly_one_worker(spread: Spread) -> None:
    async with stores(spread.url) as (store,), store.write() as tx:
        await tx.outbox.enqueue_many(NOW, [Notice("summary_post", None, f"C{i}") for i in range(90)])
    claims = await spread.run(_claim_all, [(f"host:1:{i}",) for i in range(6)])
    claimed = [row for worker in claims for row in worker]
    assert len(claimed) == 90 and len(set(claimed)) == 90


async def _create_once(store: Store) -> int:
    async with store.write() as tx:
        found = await tx.requests.by_idempotency_key("api:ci:build-7")
        if found is not None:
            return found[0].id
        return await tx.requests.insert(
            NewRequest(
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
        )


async def test_one_idempotency_key_creates_one_request_whatever_the_concurrency(spread: Spread) -> None:
    ids = await spread.run(_create_once, [()] * 20)
    assert len(set(ids)) == 1 and isinstance(ids[0], int)
    async with stores(spread.url) as (store,), store.read() as r:
        assert await r.requests.count_pending() == 1


async def _handle(store: Store, i: int) -> bool:
    try:
        async with store.write(receipt="slack:Ev123") as tx:
            await tx.audit.append(NOW, AuditEntry(f"U{i}", "requested"))
    except RepeatedDelivery:
        return False
    return True


async def test_a_delivery_key_admits_its_work_once(spread: Spread) -> None:
    results = await spread.run(_handle, [(i,) for i in range(12)])
    assert results.count(True) == 1 and results.count(False) == 11
    async with stores(spread.url) as (store,):
        assert await store.seen("slack:Ev123")
        assert not await store.seen("slack:Ev124")


async def _sweep_once(store: Store) -> bool:
    async with store.write() as tx:
        await tx.facts.lock_job("summary_last_slot")
        if await tx.facts.get("slot") == "09:00":
            return False
        await tx.facts.put("slot", "09:00")
        await tx.outbox.enqueue(NOW, Notice("summary_post", None, "C1"))
        return True


async def test_check_then_act_under_a_job_lock_acts_once(spread: Spread) -> None:
    results = await spread.run(_sweep_once, [()] * 15)
    assert results.count(True) == 1 and results.count(False) == 14
    async with stores(spread.url) as (store,), store.read() as r:
        assert (await r.outbox.backlog())[0] == 1


async def _judge(store: Store, request_id: int, i: int) -> bool:
    verdict = Verdict.JUSTIFIED if i % 2 else Verdict.NOT_JUSTIFIED
    async with store.write() as tx:
        await tx.requests.get_for_update(request_id)
        return await tx.requests.set_verdict(request_id, verdict, f"U{i}", "note", NOW)


async def test_one_of_many_concurrent_verdicts_counts(spread: Spread) -> None:
    async with stores(spread.url) as (store,):
        request_id = await new_request(store, status=Status.APPROVED, break_glass="DNS", decided_by="U0JUNIOR1")
    results = await spread.run(_judge, [(request_id, i) for i in range(20)])
    assert results.count(True) == 1 and results.count(False) == 19
    async with stores(spread.url) as (store,), store.read() as r:
        req = await r.requests.get(request_id)
        assert req is not None and req.break_glass is not None and not req.awaiting_review_after_the_fact
        assert await r.requests.count_awaiting_review_after_the_fact() == 0


async def _approve(store: Store, request_id: int, who: str) -> bool:
    async with store.write() as tx:
        await tx.requests.get_for_update(request_id)
        return await tx.decisions.record(request_id, who, "approve", None, NOW)


async def test_concurrent_approvals_count_each_senior_once(spread: Spread) -> None:
    async with stores(spread.url) as (store,):
        request_id = await new_request(store)
    people = [f"U{i % 4}" for i in range(24)]  # 4 people, each trying 6 times at once
    results = await spread.run(_approve, [(request_id, who) for who in people])
    assert results.count(True) == 4 and results.count(False) == 20
    async with stores(spread.url) as (store,), store.read() as r:
        req = await r.requests.get(request_id)
        assert req is not None and req.approvals == 4
        assert sorted(who for who, _ in await r.decisions.approvals_at(request_id)) == ["U0", "U1", "U2", "U3"]


async def _assign_pair(store: Store, request_id: int, reviewers: list[str], close: bool) -> str:
    """Assign two reviewers (in the order given), or close the request's reviews, in one transaction."""
    async with store.write() as tx:
        if close:
            await tx.requests.set_outcome(
                request_id, status=Status.CANCELLED, now=NOW, requested_at=NOW, final=FinalReason.CANCELLED
            )
        else:
            for reviewer in reviewers:
                await tx.assignments.assign(request_id, reviewer, NOW, "routed", new=True)
    return "ok"


async def _fold(store: Store) -> int:
    async with store.write(durable=False) as tx:
        return await tx.assignments.fold_load(7)


async def test_the_same_seniors_assigned_in_any_order_never_deadlock_and_load_stays_exact(spread: Spread) -> None:
    """Requests routed to the same two seniors in opposite orders, reviews closing and the load
    ledger folding, all at once: nothing waits on another in a cycle, and every senior's open
    reviews and last assignment come out exactly as the assignments say."""
    async with stores(spread.url) as (store,):
        ids = [await new_request(store) for _ in range(40)]
    pair = ["U0SENIOR1", "U0SENIOR2"]
    assigns = [(rid, pair if i % 2 else pair[::-1], False) for i, rid in enumerate(ids)]
    assert await spread.run(_assign_pair, assigns) == ["ok"] * 40
    mixed: list[tuple[object, ...]] = [(rid, [], True) for rid in ids[:20]]
    mixed += [(rid, ["U0SENIOR3", *pair], False) for rid in [await _new(spread.url) for _ in range(20)]]
    results = await asyncio.gather(spread.run(_assign_pair, mixed), spread.run(_fold, [()] * 10))
    assert results[0] == ["ok"] * 40 and all(isinstance(n, int) for n in results[1])
    async with stores(spread.url) as (store,), store.read() as r:
        load, last = await r.assignments.load(["U0SENIOR1", "U0SENIOR2", "U0SENIOR3"])
    assert load == {"U0SENIOR1": 40, "U0SENIOR2": 40, "U0SENIOR3": 20}
    assert {k: utc_text(v) for k, v in last.items()} == dict.fromkeys(load, utc_text(NOW))


async def _new(url: str) -> int:
    async with stores(url) as (store,):
        return await new_request(store)

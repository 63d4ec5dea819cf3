"""A PostgreSQL write that is given up (its deadline passed while it waited for a lock, or the
task doing it was cancelled in the middle of its work) leaves no transaction open: the server
holds no session of ours idle in a transaction, no lock stays held, and the next write on
every pooled connection succeeds."""

from __future__ import annotations

import asyncio

import psycopg

from bot import deadlines
from bot.domain.errors import Busy
from bot.store import store_for
from bot.store.unit_of_work import Store
from tests.store.stores import new_request

ROUNDS = 20


def _open_transactions(url: str) -> int:
    name = url.rpartition("/")[2]
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND state IN ('idle in transaction', 'idle in transaction (aborted)')",
            (name,),
        ).fetchone()
    return int(row[0]) if row else 0


async def test_a_write_given_up_leaves_no_transaction_open(postgres_url: str) -> None:
    store = store_for(postgres_url)
    await store.open()
    try:
        request_id = await new_request(store)
        with psycopg.connect(postgres_url, autocommit=True) as holder:
            busy = cancelled = 0
            for n in range(ROUNDS):
                # Another session holds the request's row: the write waits for it, past its deadline.
                holder.execute("BEGIN")
                holder.execute("SELECT id FROM requests WHERE id = %s FOR UPDATE", (request_id,))
                try:
                    with deadlines.within(deadlines.MARGIN + 0.3):
                        async with store.write() as tx:
                            await tx.facts.put(f"round-{n}", "started")
                            await tx.requests.get_for_update(request_id)
                except Busy:
                    busy += 1
                holder.execute("ROLLBACK")

                # A write whose task is cancelled while it holds its transaction open.
                started = asyncio.Event()

                async def stalls(n: int = n, started: asyncio.Event = started) -> None:
                    async with store.write() as tx:
                        await tx.facts.put(f"stalled-{n}", "yes")
                        started.set()
                        await asyncio.sleep(60)

                task = asyncio.create_task(stalls())
                await started.wait()
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    cancelled += 1
                assert _open_transactions(postgres_url) == 0
        assert (busy, cancelled) == (ROUNDS, ROUNDS)
        # Nothing of the given-up work was kept, and every pooled connection writes again.
        await asyncio.gather(*(_write(store, f"after-{i}") for i in range(8)))
        async with store.read() as r:
            assert [await r.facts.get(f"round-{n}") for n in range(ROUNDS)] == [None] * ROUNDS
            assert [await r.facts.get(f"stalled-{n}") for n in range(ROUNDS)] == [None] * ROUNDS
            assert [await r.facts.get(f"after-{i}") for i in range(8)] == ["written"] * 8
    finally:
        await store.close()


async def _write(store: Store, key: str) -> None:
    async with store.write() as tx:
        await tx.facts.put(key, "written")


async def test_a_routing_lock_not_granted_with_begin_leaves_no_transaction_open(postgres_url: str) -> None:
    """The routing lock rides with BEGIN: when a sweep holds it past the work's deadline, the work
    is Busy, its half-begun transaction is rolled back on the spot, and the next writes succeed."""
    from bot.store.postgres.store import lock_key
    from bot.store.sql.requests import ROUTING_LOCK

    store = store_for(postgres_url)
    await store.open()
    try:
        with psycopg.connect(postgres_url, autocommit=True) as sweep:
            for n in range(ROUNDS):
                sweep.execute("BEGIN")
                sweep.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(ROUTING_LOCK),))
                try:
                    with deadlines.within(deadlines.MARGIN + 0.2):
                        async with store.write(routing=True) as tx:
                            await tx.facts.put(f"routed-{n}", "yes")
                    raise AssertionError("the write went ahead while a sweep held the routing lock")
                except Busy:
                    pass
                assert _open_transactions(postgres_url) == 1  # the sweep's own, nothing of ours
                sweep.execute("ROLLBACK")
        await asyncio.gather(*(_write(store, f"after-{i}") for i in range(8)))
        async with store.read() as r:
            assert [await r.facts.get(f"routed-{n}") for n in range(ROUNDS)] == [None] * ROUNDS
            assert [await r.facts.get(f"after-{i}") for i in range(8)] == ["written"] * 8
    finally:
        await store.close()

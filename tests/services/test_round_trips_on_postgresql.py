"""What each path a person or pipeline waits for costs on PostgreSQL, counted on the wire: every
simple query and every Sync the bot sends is one wait for the database (a round trip), whatever
rode with it. Counted by a relay in front of the real database (tests/fakes/pg_wire.py), so the
count is exact and the same on every run.

The budgets are today's counts. They were 16 or 17 before the audit chain was sealed after the
commit, the change notification sent after it, BEGIN sent with its settings, the routing lock
asked for once, a decision's reviewers and the actor's own vote read in one statement, and the
Workflow step looked up only for a request a step made; 12 before the routing lock rode with
BEGIN and routing read the reviewers' load and who is away in one statement. A change that adds a round trip to a
path fails here and must say why. The HTTP handlers add reads of
their own: a Slack delivery's receipt check (one), and a pipeline's answer (three).

Also checked on every path: no transaction sends ``NOTIFY`` (other replicas are told after the
commit), and none takes a lock that every writer needs (the audit chain is sealed after the
commit; the routing lock is taken shared, and once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot import deadlines
from bot.domain.models import Draft
from bot.services.claim_request import claim_request
from bot.services.create_request import Submission, create_request
from bot.services.decide_request import approve, deny
from bot.services.set_availability import set_availability
from tests import backends
from tests.fakes.pg_wire import RoundTrip, WireCounter
from tests.services.conftest import World, opened_world

# Round trips per path, transaction included (BEGIN with its settings, and COMMIT, are one each).
BUDGET = {"create": 10, "approve": 11, "deny": 11, "claim": 11}


@pytest.fixture
async def counted() -> AsyncIterator[tuple[World, WireCounter]]:
    backends.require_postgres()
    url = backends.create_database()
    counter = WireCounter(url)
    await counter.start()
    try:
        async with opened_world(counter.url) as world:
            yield world, counter
    finally:
        await counter.stop()
        backends.drop_database(url)


async def trips(counter: WireCounter, work: Callable[[], Awaitable[Any]]) -> list[RoundTrip]:
    """The round trips ``work`` waits for, on every connection. The notification another replica
    hears is sent by a task of its own after a commit (perhaps an earlier one), on its own
    connection and outside any transaction: not part of the path. Nor is the listening
    connection's own traffic (its ``LISTEN``, sent whenever it connects, perhaps while the work
    runs), nor the pool's check of a connection that sat idle for seconds (an empty query), which
    a loaded bot never pays."""
    mark = counter.mark()
    await work()
    made = [t for t in counter.since(mark) if t.text]  # an empty query: the pool checking a connection idle a while
    listening = {t.connection for t in made if t.text.startswith("LISTEN")}
    made = [t for t in made if t.connection not in listening]
    inside = _in_transactions(made)
    return [t for t, open_ in zip(made, inside, strict=True) if open_ or "pg_notify" not in t.text]


def _in_transactions(made: list[RoundTrip]) -> list[bool]:
    """Whether each round trip ran inside a transaction (between BEGIN and COMMIT or ROLLBACK)."""
    open_on: set[int] = set()
    inside = []
    for t in made:
        if t.text.startswith("BEGIN"):
            open_on.add(t.connection)
        inside.append(t.connection in open_on)
        if t.text in ("COMMIT", "ROLLBACK"):
            open_on.discard(t.connection)
    return inside


def check(path: str, made: list[RoundTrip]) -> None:
    listing = "\n".join(f"  {t.connection}: {t.text[:140]}" for t in made)
    assert len(made) <= BUDGET[path], f"{path}: {len(made)} round trips, budget {BUDGET[path]}:\n{listing}"
    texts = [t.text for t in made]
    assert texts.count("COMMIT") == 1, listing
    assert not any("pg_notify" in t for t in texts), f"{path} notifies inside a transaction:\n{listing}"
    assert not any("pg_advisory_xact_lock(" in t for t in texts), f"{path} takes an exclusive lock:\n{listing}"
    shared = [t for t in texts if "pg_advisory_xact_lock_shared" in t]
    assert len(shared) <= 1, f"{path} asks for the routing lock {len(shared)} times:\n{listing}"


def submission(**draft: Any) -> Submission:
    fields: dict[str, Any] = {
        "title": "Add an index",
        "url": "https://git.example.com/mr/1",
        "ai_assisted": True,
        "destructive": False,
    }
    return Submission(requester="U0JUNIOR1", draft=Draft(**{**fields, **draft}), source="api", pipeline="ci")


async def test_a_create_from_a_pipeline(counted: tuple[World, WireCounter]) -> None:
    world, counter = counted
    await create_request(world.deps, submission())  # the first of its kind warms nothing that matters
    made = await trips(counter, lambda: create_request(world.deps, submission(title="Second")))
    check("create", made)


async def test_a_deadline_costs_no_round_trip(counted: tuple[World, WireCounter]) -> None:
    """What Slack and a pipeline wait for has a deadline, and its lock waits end there: the
    setting rides with BEGIN, in the same round trip."""
    world, counter = counted

    async def within_a_deadline() -> None:
        with deadlines.within(2.5):
            await create_request(world.deps, submission())

    made = await trips(counter, within_a_deadline)
    check("create", made)
    assert made[0].text.startswith("BEGIN; SET LOCAL lock_timeout = "), made[0].text
    assert "pg_advisory_xact_lock_shared(" in made[0].text  # the routing lock rides with BEGIN too


async def test_an_approve_that_decides_and_a_deny(counted: tuple[World, WireCounter]) -> None:
    world, counter = counted
    first = (await create_request(world.deps, submission())).request
    second = (await create_request(world.deps, submission(title="Second"))).request
    check("approve", await trips(counter, lambda: approve(world.deps, first.id, first.reviewer or "")))
    check("deny", await trips(counter, lambda: deny(world.deps, second.id, second.reviewer or "", "Too risky")))
    assert [(await world.get(first.id)).status.value, (await world.get(second.id)).status.value] == [
        "approved",
        "denied",
    ]


async def test_a_claim(counted: tuple[World, WireCounter]) -> None:
    world, counter = counted
    for senior in ("U0SENIOR1", "U0SENIOR2"):
        await set_availability(world.deps, senior, True)
    created = (await create_request(world.deps, submission(destructive=True))).request  # one seat left open
    await set_availability(world.deps, "U0SENIOR2", False)
    check("claim", await trips(counter, lambda: claim_request(world.deps, created.id, "U0SENIOR2")))
    assert "U0SENIOR2" in await world.reviewers(created.id)

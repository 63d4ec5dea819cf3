"""The use cases called directly, on each backend (a real SQLite file, a real PostgreSQL
database), with the tests' roster and a clock that moves only when told. No HTTP and no Slack:
what a service decides, stores and queues stands next to its code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import MovableClock
from bot.domain.models import ChangeRequest, Draft, Roster
from bot.roster import parse_roster
from bot.services import policy_state
from bot.services.create_request import Submission, create_request
from bot.services.deps import Deps
from bot.store import store_for
from tests.harness import ROSTER

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DRAFT = Draft(title="Add an index", url="https://git.example.com/mr/1", ai_assisted=True, destructive=False)


class World:
    """A store, a roster and a clock, and the few reads the tests check against."""

    def __init__(self, deps: Deps, clock: MovableClock) -> None:
        self.deps = deps
        self.clock = clock
        self.store = deps.store

    async def ask(self, requester: str = "U0JUNIOR1", **draft: Any) -> int:
        """A request as a person would make it; returns its id."""
        fields: dict[str, Any] = {"title": "Add an index", "url": "https://git.example.com/mr/1", "ai_assisted": True}
        fields.setdefault("destructive", False)
        fields.update(draft)
        created = await create_request(self.deps, Submission(requester=requester, draft=Draft(**fields)))
        return created.request.id

    async def get(self, request_id: int) -> ChangeRequest:
        async with self.store.read() as r:
            found = await r.requests.get(request_id)
        assert found is not None
        return found

    async def reviewers(self, request_id: int) -> list[str]:
        async with self.store.read() as r:
            return sorted(await r.assignments.active(request_id))

    async def queued(self, kind: str) -> list[tuple[int | None, str | None]]:
        """(request, recipient) of every outbox row of ``kind``, oldest first."""
        async with self.store.read() as r:
            rows = await r.executor.many("SELECT request_id, recipient FROM outbox WHERE kind = ? ORDER BY id", (kind,))
        return [(row["request_id"], row["recipient"]) for row in rows]

    async def audited(self, action: str) -> list[tuple[str, int | None, str | None]]:
        """(actor, request, reason) of every audit row of ``action``, in order."""
        async with self.store.read() as r:
            rows = await r.executor.many(
                "SELECT actor, request_id, reason FROM audit WHERE action = ? ORDER BY id", (action,)
            )
        return [(row["actor"], row["request_id"], row["reason"]) for row in rows]


def roster() -> Roster:
    return parse_roster(ROSTER, Path("roster.yml"))


@asynccontextmanager
async def opened_world(database_url: str) -> AsyncIterator[World]:
    """A World on the database at ``database_url``: migrated, the policy started a day ago."""
    clock = MovableClock(START)
    store = store_for(database_url)
    store.use_clock(clock)
    await store.open()
    try:
        await policy_state.initialise(store, START - timedelta(days=1), 90, clock.now())
        the_roster = roster()
        yield World(Deps(store=store, roster=lambda: the_roster, clock=clock, summary_channel="C0SIGNOFF"), clock)
    finally:
        await store.close()


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with opened_world(database_url) as opened:
        yield opened

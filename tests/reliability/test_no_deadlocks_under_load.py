"""A burst of creates by requesters of three teams, each routed to the same few seniors in a
different order, and the same burst again beside approvals and cancels of the first: every
create is answered 201, every other action does what it says, and PostgreSQL counts no
deadlock (routing's order never becomes a locking order)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.slack import ids
from tests.deployments import JUNIORS, SHAPES, Deployment, deployed

BURST = 100


@pytest.fixture(params=SHAPES)
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def deadlocks(d: Deployment) -> int:
    if d.database_url.startswith("sqlite"):
        return 0
    await asyncio.sleep(1.5)  # each server process reports its counts at most once a second
    return await d.count("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")


async def approve_all(d: Deployment, i: int, created: dict[str, Any]) -> None:
    replies = await asyncio.gather(
        *(d.click(r, ids.APPROVE, created["id"][3:], replica=i + k) for k, r in enumerate(created["reviewers"]))
    )
    assert [r.status for r in replies] == [200] * len(created["reviewers"])


async def cancel(d: Deployment, i: int, created: dict[str, Any]) -> None:
    assert (await d.driver(i).command(created["requester"], f"cancel {created['id']}")).status == 200


@pytest.mark.parametrize("seniors", [2, 5])
async def test_bursts_of_creates_with_approvals_and_cancels_never_deadlock(
    shape: str, seniors: int, tmp_path: Path
) -> None:
    async with deployed(shape, tmp_path, DESTRUCTIVE_APPROVALS=seniors) as d:
        before = await deadlocks(d)
        first = await asyncio.gather(
            *(d.create(JUNIORS[i % 3], replica=i, destructive=True) for i in range(BURST))
        )  # each asserts 201
        assert {len(c["reviewers"]) for c in first} == {seniors}
        second, *_ = await asyncio.gather(
            asyncio.gather(*(d.create(JUNIORS[i % 3], replica=i, destructive=i % 2 == 0) for i in range(BURST))),
            *(approve_all(d, i, c) if i % 2 == 0 else cancel(d, i, c) for i, c in enumerate(first)),
        )
        await d.quiet()
        assert await d.count("SELECT COUNT(*) FROM requests") == 2 * BURST
        statuses = dict(await d.rows("SELECT id, status FROM requests"))
        for i, c in enumerate(first):
            assert statuses[int(c["id"][3:])] == ("approved" if i % 2 == 0 else "cancelled")
        assert all(statuses[int(c["id"][3:])] == "pending" for c in second)
        assert await d.count("SELECT COUNT(*) FROM audit WHERE action = 'decided'") == BURST // 2
        assert await deadlocks(d) == before
        assert "deadlock" not in d.logs()

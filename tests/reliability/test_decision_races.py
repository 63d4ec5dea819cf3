"""Decisions that race: on every shape of deployment (SQLite, PostgreSQL, two replicas on one
PostgreSQL), whatever arrives at the same moment, each request ends with exactly one outcome,
one `decided` audit row, one outcome DM to its requester and one final answer to its pipeline,
and the reconciliation pass never has anything to repair.

Each case runs ROUNDS requests, several at once, every click of a round sent at the same moment
(spread over the replicas), and asserts exact totals.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from bot.slack import ids
from tests.deployments import JUNIORS, SENIORS, SHAPES, Deployment, deployed, each
from tests.fakes.driver import reason_values

ROUNDS = 50
PARALLEL = 5


@pytest.fixture(params=SHAPES)
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def no_repairs(d: Deployment) -> None:
    assert await d.count("SELECT COUNT(*) FROM audit WHERE action = 'repaired'") == 0
    assert "repaired" not in d.logs()


async def per_request(d: Deployment, ref: str, action: str) -> int:
    return await d.count("SELECT COUNT(*) FROM audit WHERE request_id = ? AND action = ?", int(ref[3:]), action)


@pytest.mark.parametrize("seniors", [2, 3, 5])
async def test_every_senior_approving_at_once_decides_once(shape: str, seniors: int, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path, DESTRUCTIVE_APPROVALS=seniors) as d:

        async def one(i: int) -> tuple[str, dict[str, Any]]:
            created = await d.create(JUNIORS[i % 3], replica=i, destructive=True)
            ref, reviewers = created["id"], created["reviewers"]
            assert len(reviewers) == seniors
            waiter = asyncio.create_task(d.wait_final(ref, replica=i + 1))
            clicks = [d.click(r, ids.APPROVE, ref[3:], replica=i + k) for k, r in enumerate(reviewers)]
            assert [reply.status for reply in await asyncio.gather(*clicks)] == [200] * seniors
            return ref, await waiter

        results = await each(ROUNDS, PARALLEL, one)
        await d.quiet()
        for ref, answer in results:
            assert (answer["status"], answer["approvals"]) == ("approved", seniors), answer
            assert await per_request(d, ref, "decided") == 1
            assert await per_request(d, ref, "approval_recorded") == seniors - 1
            assert len(d.outcome_dms(answer["requester"], ref)) == 1
        await no_repairs(d)


async def test_an_approval_racing_a_denial_ends_denied_once(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path, DESTRUCTIVE_APPROVALS=2) as d:

        async def one(i: int) -> tuple[str, dict[str, Any]]:
            created = await d.create(JUNIORS[i % 3], replica=i, destructive=True)
            ref, (first, second) = created["id"], created["reviewers"]
            approver, denier = (first, second) if i % 2 else (second, first)
            waiter = asyncio.create_task(d.wait_final(ref, replica=i + 1))
            replies = await asyncio.gather(
                d.click(approver, ids.APPROVE, ref[3:], replica=i),
                d.driver(i + 1).submit(denier, ids.DENY_FORM, reason_values("Too risky"), private_metadata=ref[3:]),
            )
            assert [reply.status for reply in replies] == [200, 200]
            return ref, await waiter

        results = await each(ROUNDS, PARALLEL, one)
        await d.quiet()
        for ref, answer in results:
            assert (answer["status"], answer["reason"]) == ("denied", "Too risky"), answer
            assert await per_request(d, ref, "decided") == 1
            assert len(d.outcome_dms(answer["requester"], ref)) == 1
        await no_repairs(d)


async def test_an_approval_racing_a_cancel_ends_one_way(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path) as d:

        async def one(i: int) -> tuple[str, dict[str, Any]]:
            requester = JUNIORS[i % 3]
            created = await d.create(requester, replica=i)
            ref, (reviewer,) = created["id"], created["reviewers"]
            waiter = asyncio.create_task(d.wait_final(ref, replica=i + 1))
            actions = [
                d.click(reviewer, ids.APPROVE, ref[3:], replica=i),
                d.driver(i + 1).command(requester, f"cancel {ref}"),
            ]
            if i % 2:
                actions.reverse()
            assert [reply.status for reply in await asyncio.gather(*actions)] == [200, 200]
            return ref, await waiter

        results = await each(ROUNDS, PARALLEL, one)
        await d.quiet()
        outcomes = set()
        for ref, answer in results:
            outcomes.add(answer["status"])
            assert answer["status"] in ("approved", "cancelled"), answer
            decided, cancelled = await per_request(d, ref, "decided"), await per_request(d, ref, "cancelled")
            assert (decided, cancelled) == ((1, 0) if answer["status"] == "approved" else (0, 1))
            assert len(d.outcome_dms(answer["requester"], ref)) == 1
        await no_repairs(d)


async def test_claims_racing_for_two_seats_give_exactly_two_reviewers(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path, DESTRUCTIVE_APPROVALS=2) as d:
        for senior in SENIORS:  # nobody can be routed to: every request waits for seniors to claim it
            assert (await d.driver().command(senior, "away")).status == 200

        async def one(i: int) -> tuple[str, list[str]]:
            created = await d.create(JUNIORS[i % 3], replica=i, destructive=True)
            ref = created["id"]
            assert created["reviewers"] == []
            claimers = random.Random(i).sample(SENIORS, 3)
            clicks = [d.click(s, ids.CLAIM, ref[3:], replica=i + k) for k, s in enumerate(claimers)]
            assert [reply.status for reply in await asyncio.gather(*clicks)] == [200] * 3
            return ref, claimers

        results = await each(ROUNDS, PARALLEL, one)
        await d.quiet()
        for ref, claimers in results:
            assert await per_request(d, ref, "claimed") == 2
            rows = await d.rows(
                "SELECT reviewer FROM assignments WHERE request_id = ? AND active = 1 ORDER BY reviewer", int(ref[3:])
            )
            assert len(rows) == 2 and {r[0] for r in rows} <= set(claimers)
            refused = await d.rows("SELECT reason FROM audit WHERE request_id = ? AND action = 'refused'", int(ref[3:]))
            assert refused == [("already_claimed",)]
        await no_repairs(d)


async def test_an_approval_racing_its_escalation_counts_once_either_way(shape: str, tmp_path: Path) -> None:
    """The reviewer presses Approve around the moment their review is escalated to someone else:
    either their approval decides it, or it is refused because the review moved, never both."""
    timers = {"REMINDER_AFTER": "1s", "ESCALATE_AFTER": "3s", "SWEEP_EVERY": "1s"}
    async with deployed(shape, tmp_path, **timers) as d:
        loop = asyncio.get_running_loop()

        async def one(i: int) -> tuple[str, str, dict[str, Any]]:
            created = await d.create(JUNIORS[i % 3], replica=i)
            ref, (first,) = created["id"], created["reviewers"]
            started = loop.time()
            # Escalation comes at the first sweep after 3 s: somewhere in 3 to 4 s.
            await asyncio.sleep(max(0.0, started + random.Random(i).uniform(2.5, 4.5) - loop.time()))
            assert (await d.click(first, ids.APPROVE, ref[3:], replica=i + 1)).status == 200
            answer: dict[str, Any] = {"status": "pending"}
            while answer["status"] == "pending":  # moved on: whoever has it now approves
                status, answer = await d.api("GET", f"/api/v1/requests/{ref}", replica=i)
                assert status == 200
                if answer["status"] == "pending" and answer["reviewer"]:
                    await d.click(answer["reviewer"], ids.APPROVE, ref[3:], replica=i)
                await asyncio.sleep(0.05)
            return ref, first, await d.wait_final(ref, replica=i + 1)

        results = await each(ROUNDS, 25, one)
        await d.quiet()
        by_first = 0
        for ref, first, answer in results:
            assert answer["status"] == "approved", answer
            assert await per_request(d, ref, "decided") == 1
            decided = await d.count(
                "SELECT COUNT(*) FROM decisions WHERE request_id = ? AND reviewer = ?", int(ref[3:]), first
            )
            refused = await d.count(
                "SELECT COUNT(*) FROM audit WHERE request_id = ? AND actor = ? AND action = 'refused'",
                int(ref[3:]),
                first,
            )
            assert decided + refused == 1, (ref, decided, refused)
            by_first += decided
            assert len(d.outcome_dms(answer["requester"], ref)) == 1
        assert 0 < by_first < ROUNDS, "the clicks should land on both sides of the escalation"
        await no_repairs(d)

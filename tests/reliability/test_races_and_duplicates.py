"""Races and duplicates: however many clicks, calls or replays arrive at once, on one process or
spread over replicas, exactly one decision counts, it never changes afterwards, and nobody is
told twice. Every case runs on each shape in ``tests.deployments.SHAPES``."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from bot.slack import ids
from tests.deployments import SHAPES, Deployment, deployed
from tests.fakes.driver import reason_values


@pytest.fixture(params=SHAPES)
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def audit_count(d: Deployment, action: str, reason: str | None = None) -> int:
    if reason is None:
        return await d.count("SELECT COUNT(*) FROM audit WHERE action = ?", action)
    return await d.count("SELECT COUNT(*) FROM audit WHERE action = ? AND reason = ?", action, reason)


async def test_fifty_concurrent_approvals_make_one_decision(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path) as d:
        created = await d.create("U0JUNIOR1")
        ref, (reviewer,) = created["id"], created["reviewers"]
        replies = await asyncio.gather(*(d.click(reviewer, ids.APPROVE, ref[3:], replica=i) for i in range(50)))
        assert [r.status for r in replies] == [200] * 50
        await d.quiet()
        assert await audit_count(d, "decided") == 1
        assert await d.count("SELECT COUNT(*) FROM decisions") == 1
        assert len(d.outcome_dms("U0JUNIOR1", ref)) == 1
        (dm,) = [m for m in d.slack.dms(reviewer) if m.text.startswith(f"{ref} needs your sign-off")]
        assert dm.updates == 1
        await d.slack.wait_for(lambda: len(d.slack.ephemeral_texts()) == 49)
        assert d.slack.ephemeral_texts() == [f"{ref} is already approved by <@{reviewer}>."] * 49
        assert await audit_count(d, "refused", "already_decided") == 49


async def test_approvals_and_denials_from_two_reviewers_interleaved_give_one_outcome(
    shape: str, tmp_path: Path
) -> None:
    async with deployed(shape, tmp_path, DESTRUCTIVE_APPROVALS=2) as d:
        created = await d.create("U0JUNIOR1", destructive=True)
        ref, (approver, denier) = created["id"], created["reviewers"]
        clicks = [(approver, "approve")] * 25 + [(denier, "deny")] * 25
        random.Random(7).shuffle(clicks)

        async def act(i: int, user: str, what: str) -> int:
            if what == "approve":
                return (await d.click(user, ids.APPROVE, ref[3:], replica=i)).status
            reply = await d.driver(i).submit(user, ids.DENY_FORM, reason_values("Too risky"), private_metadata=ref[3:])
            return reply.status

        assert await asyncio.gather(*(act(i, u, w) for i, (u, w) in enumerate(clicks))) == [200] * 50
        outcome = await d.wait_final(ref)
        await d.quiet()
        assert (outcome["status"], outcome["decided_by"]) == ("denied", denier)
        assert await audit_count(d, "decided") == 1
        assert len(d.outcome_dms("U0JUNIOR1", ref)) == 1
        for i, (user, what) in enumerate(clicks[:10]):  # later clicks change nothing
            await act(i, user, what)
        await d.quiet()
        again = await d.wait_final(ref)
        assert (again["status"], again["decided_by"], again["decided_at"]) == (
            outcome["status"],
            outcome["decided_by"],
            outcome["decided_at"],
        )
        assert len(d.outcome_dms("U0JUNIOR1", ref)) == 1


async def test_a_replayed_click_decides_once_and_sends_nothing_extra(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path) as d:
        created = await d.create("U0JUNIOR1")
        ref, (reviewer,) = created["id"], created["reviewers"]
        driver = d.driver(0)
        assert (await driver.click(reviewer, ids.APPROVE, ref[3:])).status == 200
        await d.quiet()
        calls = len(d.slack.calls)
        for i in range(10):  # the same signed bytes, to any replica
            d.driver(i).last_raw = driver.last_raw
            assert (await d.driver(i).replay()).status == 200
        await d.quiet()
        assert len(d.slack.calls) == calls
        rows = await d.rows("SELECT action FROM audit WHERE request_id = ? ORDER BY id", int(ref[3:]))
        assert [r[0] for r in rows] == ["requested", "assigned", "decided"]


async def test_twenty_concurrent_calls_with_one_key_create_one_request(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path) as d:
        body = {"requester": "U0JUNIOR1", "title": "t", "url": "https://e.example/pr/1", "ai_assisted": True}
        results = await asyncio.gather(
            *(
                d.api("POST", "/api/v1/requests", {**body, "destructive": False}, i, **{"Idempotency-Key": "k"})
                for i in range(20)
            )
        )
        assert sorted(status for status, _ in results) == [200] * 19 + [201]
        assert {answer["id"] for _, answer in results} == {"CR-1"}
        await d.quiet()
        assert await d.count("SELECT COUNT(*) FROM requests") == 1
        reviewer = results[0][1]["reviewer"]
        assert len(d.slack.dms(reviewer)) == 1


async def test_two_seniors_clicking_many_times_at_once_each_count_once_and_decide_once(
    shape: str, tmp_path: Path
) -> None:
    async with deployed(shape, tmp_path, DESTRUCTIVE_APPROVALS=2) as d:
        created = await d.create("U0JUNIOR1", destructive=True)
        ref, reviewers = created["id"], created["reviewers"]
        clicks = [user for user in reviewers for _ in range(20)]
        random.Random(11).shuffle(clicks)
        replies = await asyncio.gather(*(d.click(u, ids.APPROVE, ref[3:], replica=i) for i, u in enumerate(clicks)))
        assert [r.status for r in replies] == [200] * 40
        outcome = await d.wait_final(ref)
        await d.quiet()
        assert (outcome["status"], outcome["approvals"]) == ("approved", 2)
        assert await d.count("SELECT COUNT(*) FROM decisions") == 2
        assert await audit_count(d, "approval_recorded") == 1
        assert await audit_count(d, "decided") == 1
        assert await audit_count(d, "refused") == 38
        assert len(d.outcome_dms("U0JUNIOR1", ref)) == 1


async def test_many_verdicts_at_once_record_one(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path) as d:
        created = await d.create("U0JUNIOR1", break_glass="Checkout is down")
        ref, (reviewer,) = created["id"], created["reviewers"]
        verdicts = ["justified", "not_justified"] * 15
        notes = {"note": {"value": {"type": "plain_text_input", "value": "n"}}}
        await asyncio.gather(
            *(
                d.driver(i).submit(reviewer, ids.AFTER_THE_FACT_FORM, notes, private_metadata=f"{ref[3:]}:{v}")
                for i, v in enumerate(verdicts)
            )
        )
        await d.quiet()
        assert await audit_count(d, "hindsight_reviewed") == 1
        assert await audit_count(d, "refused") == 29
        assert len([m for m in d.slack.posts_in("C0SIGNOFF") if "break-glass reviewed" in m.text]) == 1

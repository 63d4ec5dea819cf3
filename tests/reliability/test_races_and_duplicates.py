"""Races and duplicates: however many clicks, calls or replays arrive at once, exactly one
decision counts, it never changes afterwards, and nobody is told twice."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bot.domain.models import Status
from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness

BODY: dict[str, Any] = {
    "requester": "U0JUNIOR1",
    "title": "t",
    "url": "https://e.example/pr/1",
    "ai_assisted": True,
    "destructive": False,
}


async def count(h: Harness, sql: str, *params: object) -> int:
    row = await h.bot.store.fetchone(sql, params)
    assert row is not None
    return int(row[0])


async def test_fifty_concurrent_approvals_make_one_decision(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    replies = await asyncio.gather(*(h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:]) for _ in range(50)))
    assert [r.status for r in replies] == [200] * 50
    await h.settle()
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'decided'") == 1
    assert await count(h, "SELECT COUNT(*) FROM decisions") == 1
    assert len([m for m in h.slack.dms("U0JUNIOR1") if "was approved" in m.text]) == 1
    assert len(h.slack.calls_to("chat.update", ok=True)) == 1
    assert h.review_dm("U0SENIOR1", ref).updates == 1
    assert h.slack.ephemeral_texts() == [f"{ref} is already approved by <@U0SENIOR1>."] * 49
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'refused' AND reason = 'already_decided'") == 49


async def test_approve_and_deny_from_two_reviewers_interleaved_give_one_outcome(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    await h.add_reviewer(ref, "U0STAFF1", approvals_needed=1)  # either reviewer may decide: a true race
    clicks = [("U0SENIOR1", "approve")] * 25 + [("U0STAFF1", "deny")] * 25
    random.Random(7).shuffle(clicks)

    async def act(user: str, what: str) -> None:
        if what == "approve":
            await h.driver.click(user, ids.APPROVE, ref[3:])
        else:
            await h.driver.submit(user, ids.DENY_FORM, reason_values("Too risky"), private_metadata=ref[3:])

    await asyncio.gather(*(act(u, w) for u, w in clicks))
    await h.settle()
    outcome = await h.get(ref)
    assert outcome.status in (Status.APPROVED, Status.DENIED)
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'decided'") == 1
    assert len([m for m in h.slack.dms("U0JUNIOR1") if f"{ref} was" in m.text]) == 1
    for user, what in clicks[:10]:  # later clicks change nothing
        await act(user, what)
    await h.settle()
    again = await h.get(ref)
    assert (again.status, again.decided_by, again.decided_at) == (
        outcome.status,
        outcome.decided_by,
        outcome.decided_at,
    )


async def test_a_replayed_click_decides_once_and_sends_nothing_extra(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    calls = len(h.slack.calls)
    for _ in range(10):
        assert (await h.driver.replay()).status == 200
    await h.settle()
    assert len(h.slack.calls) == calls
    rows = await h.bot.store.fetchall("SELECT action FROM audit WHERE request_id = ? ORDER BY seq", (int(ref[3:]),))
    assert [r["action"] for r in rows] == ["requested", "assigned", "decided"]


async def test_twenty_concurrent_calls_with_one_key_create_one_request(h: Harness) -> None:
    key = {"Idempotency-Key": "same-key"}
    results = await asyncio.gather(*(h.api("POST", "/api/v1/requests", BODY, headers=key) for _ in range(20)))
    assert sorted(status for status, _ in results) == [200] * 19 + [201]
    assert {body["id"] for _, body in results} == {"CR-1"}
    await h.settle()
    assert await count(h, "SELECT COUNT(*) FROM requests") == 1
    assert len(h.slack.dms("U0SENIOR1")) == 1


async def test_two_seniors_approving_at_once_each_count_once_and_decide_once(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)  # two seniors: U0SENIOR1 and U0SENIOR2
    clicks = [user for user in ("U0SENIOR1", "U0SENIOR2") for _ in range(20)]
    random.Random(11).shuffle(clicks)
    replies = await asyncio.gather(*(h.driver.click(user, ids.APPROVE, ref[3:]) for user in clicks))
    assert [r.status for r in replies] == [200] * 40
    await h.settle()
    outcome = await h.get(ref)
    assert (outcome.status, outcome.approvals) == (Status.APPROVED, 2)
    assert await count(h, "SELECT COUNT(*) FROM decisions") == 2
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'approval_recorded'") == 1
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'decided'") == 1
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'refused'") == 38
    assert len([m for m in h.slack.dms("U0JUNIOR1") if "was approved" in m.text]) == 1


async def test_many_verdicts_at_once_record_one(h: Harness) -> None:
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "break_glass": "Checkout is down"})
    assert status == 201
    await h.settle()
    ref = body["id"]
    reviewer = body["reviewers"][0]
    verdicts = ["justified", "not_justified"] * 15
    notes = {"note": {"value": {"type": "plain_text_input", "value": "n"}}}
    await asyncio.gather(
        *(h.driver.submit(reviewer, ids.HINDSIGHT_FORM, notes, private_metadata=f"{ref[3:]}:{v}") for v in verdicts)
    )
    await h.settle()
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'hindsight_reviewed'") == 1
    assert await count(h, "SELECT COUNT(*) FROM audit WHERE action = 'refused'") == 29
    assert len([m for m in h.slack.posts_in("C0SIGNOFF") if "break-glass reviewed" in m.text]) == 1

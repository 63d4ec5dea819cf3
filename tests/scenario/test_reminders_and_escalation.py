"""A review that waits REMINDER_AFTER gets one reminder; one that waits ESCALATE_AFTER moves to
the next eligible senior, or to the Claim button when nobody else is eligible. After any
downtime one sweep handles everything overdue, and a second sweep changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.domain.models import Status
from bot.slack import ids
from tests.harness import Harness, running

PAIR = """\
engineers:
  - {user: U0JUNIOR1, level: junior, team: payments}
  - {user: U0SENIOR1, level: senior, team: payments}
"""


def reminders(h: Harness, user: str) -> list[str]:
    return [m.text for m in h.slack.dms(user) if m.text.startswith("Reminder:")]


async def test_one_reminder_after_reminder_after(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    h.clock.advance(timedelta(hours=4) - timedelta(seconds=1))
    await h.tick()
    assert reminders(h, "U0SENIOR1") == []
    h.clock.advance(timedelta(seconds=1))
    await h.tick()
    await h.tick()
    assert reminders(h, "U0SENIOR1") == [f"Reminder: {ref} is waiting for your sign-off"]
    [msg] = [m for m in h.slack.dms("U0SENIOR1") if m.text.startswith("Reminder:")]
    assert "https://github.com/acme/payments/pull/42" in msg.blocks[0]["text"]["text"]


async def test_escalation_moves_the_request_to_the_next_senior(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    h.clock.advance(timedelta(hours=24))
    await h.tick()
    req = await h.get(ref)
    assert req.reviewer == "U0SENIOR2"
    old = h.review_dm("U0SENIOR1", ref)
    assert not [b for b in old.blocks if b["type"] == "actions"]
    assert "Reassigned to <@U0SENIOR2>" in old.blocks[-1]["elements"][0]["text"]
    new = h.review_dm("U0SENIOR2", ref)
    assert [b for b in new.blocks if b["type"] == "actions"]
    assert any("it is now with <@U0SENIOR2>" in m.text for m in h.slack.dms("U0JUNIOR1"))
    assert any(f"{ref} reassigned to <@U0SENIOR2>" in t for t in h.channel_posts())

    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    assert h.slack.ephemeral_texts() == [f"Only the assigned reviewer (<@U0SENIOR2>) can decide {ref}."]
    await h.driver.click("U0SENIOR2", ids.APPROVE, ref[3:])
    await h.settle()
    assert (await h.get(ref)).status is Status.APPROVED


async def test_with_nobody_else_eligible_it_goes_to_the_claim_button(tmp_path: Path) -> None:
    async with running(tmp_path, roster=PAIR) as h:
        ref = await h.ask("U0JUNIOR1")
        h.clock.advance(timedelta(hours=25))
        await h.tick()
        req = await h.get(ref)
        assert req.status is Status.PENDING and req.reviewer is None
        [post] = [m for m in h.slack.posts_in("C0SIGNOFF") if "needs a senior reviewer" in m.text]
        assert next(b for b in post.blocks if b["type"] == "actions")["elements"][0]["action_id"] == ids.CLAIM
        assert "posted in <#C0SIGNOFF>" in h.slack.dms("U0JUNIOR1")[-1].text


async def test_three_days_down_with_200_overdue_is_one_sweep(h: Harness) -> None:
    body = {"title": "t", "url": "https://e.example/pr/1", "ai_assisted": True, "destructive": False}
    pipelines = asyncio.Semaphore(10)  # ten pipelines asking at a time, not 200 in one burst

    async def create(i: int) -> tuple[int, Any]:
        async with pipelines:
            return await h.api("POST", "/api/v1/requests", {**body, "requester": f"U0JUNIOR{1 + i % 2}"})

    results = await asyncio.gather(*(create(i) for i in range(200)))
    assert [s for s, _ in results] == [201] * 200
    await h.settle()
    first = {b["id"]: b["reviewer"] for _, b in results}
    h.clock.advance(timedelta(days=3))
    await h.tick()
    assert await h.audit_actions("escalated") == 200
    assert await h.audit_actions("reminded") == 0  # escalation supersedes a stale reminder
    moved = {b["id"]: (await h.get(b["id"])).reviewer for _, b in results}
    assert all(moved[ref] not in (None, first[ref]) for ref in moved)

    before = await h.fetchone("SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM audit)")
    await h.tick()
    after = await h.fetchone("SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM audit)")
    assert before is not None and after is not None and tuple(before) == tuple(after)
    await h.assert_reviewer_stats_consistent()


async def test_a_reminder_stops_asking_once_the_review_moved_on(h: Harness) -> None:
    """The reminder said "Approve or deny it on the message above"; after the escalation the
    message above no longer decides, so the reminder is updated in place to say it moved on."""
    ref = await h.ask("U0JUNIOR1")
    h.clock.advance(timedelta(hours=4))
    await h.tick()
    [reminder] = [m for m in h.slack.dms("U0SENIOR1") if m.text.startswith("Reminder:")]
    assert "Approve or deny it on the message above" in reminder.blocks[0]["text"]["text"]
    h.clock.advance(timedelta(hours=20))
    await h.tick()
    assert (await h.get(ref)).reviewer == "U0SENIOR2"
    now = h.slack.messages[(reminder.channel, reminder.ts)]
    shown = now.blocks[0]["text"]["text"]
    assert "Approve or deny" not in shown
    assert f"*{ref}* is no longer waiting for you: it is now with <@U0SENIOR2>" in shown

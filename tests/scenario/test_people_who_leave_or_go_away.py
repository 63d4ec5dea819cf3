"""When an assigned reviewer stops being eligible (away, deactivated in Slack, off the roster),
each pending review moves at once to another eligible senior, as an escalation does. Away can
have an end, after which the person is back by themselves and told; and a delegate, who gets
that person's new reviews first."""

from __future__ import annotations

from datetime import timedelta

from bot.slack import ids
from tests.harness import ROSTER, Harness


def buttons(message: object) -> list[str]:
    return [
        e["action_id"]
        for b in message.blocks  # type: ignore[attr-defined]
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    ]


async def assert_moved(h: Harness, ref: str, old: str, new: str) -> None:
    req = await h.get(ref)
    assert req.reviewer == new, req.reviewer
    assert h.review_dm(new, ref)  # the new reviewer has a DM with buttons
    assert ids.APPROVE in buttons(h.review_dm(new, ref))
    assert ids.APPROVE not in buttons(h.review_dm(old, ref))  # the old DM no longer decides
    assert any(f"<@{new}>" in m.text for m in h.slack.dms(req.requester)[1:])  # the requester is told
    await h.driver.click(old, ids.APPROVE, ref[3:])
    assert (await h.get(ref)).status.value == "pending"


async def test_going_away_moves_pending_reviews_at_once(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    assert (await h.get(ref)).reviewer == "U0SENIOR1"
    reply = (await h.driver.command("U0SENIOR1", "away")).json()["text"]
    assert "1 pending review moved" in reply
    await h.settle()
    await assert_moved(h, ref, "U0SENIOR1", "U0SENIOR2")
    assert await h.audit_actions("reassigned") == 1


async def test_a_deactivated_reviewer_loses_their_reviews(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    reply = await h.driver.event({"type": "user_change", "user": {"id": "U0SENIOR1", "deleted": True}})
    assert reply.status == 200
    await h.settle()
    await assert_moved(h, ref, "U0SENIOR1", "U0SENIOR2")
    ref2 = await h.ask("U0JUNIOR1")  # nor are they asked again
    assert (await h.get(ref2)).reviewer != "U0SENIOR1"


async def test_removed_from_the_roster_mid_review(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    (h.tmp / "roster.yml").write_text(ROSTER.replace("  - {user: U0SENIOR1, level: senior, team: payments}\n", ""))
    await h.tick()
    await assert_moved(h, ref, "U0SENIOR1", "U0SENIOR2")


async def test_nobody_left_means_the_claim_button(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    for senior in ("U0SENIOR2", "U0STAFF1"):
        await h.driver.command(senior, "away")
    await h.driver.command("U0SENIOR1", "away")
    await h.settle()
    assert (await h.get(ref)).reviewer is None
    claims = [m for m in h.channel_posts() if ref in m]
    assert claims, h.channel_posts()


async def test_away_until_a_date_ends_by_itself_and_says_so(h: Harness) -> None:
    day = (h.clock.now() + timedelta(days=3)).strftime("%Y-%m-%d")
    text = (await h.driver.command("U0SENIOR1", f"away until {day}")).json()["text"]
    assert f"until {day} 00:00" in text
    ref = await h.ask("U0JUNIOR1")
    assert (await h.get(ref)).reviewer != "U0SENIOR1"
    await h.driver.command("U0JUNIOR1", f"cancel {ref}")  # so no escalation muddles the routing below
    h.clock.advance(timedelta(days=3))
    await h.tick()
    assert any("away time is over" in m.text for m in h.slack.dms("U0SENIOR1"))
    ref2 = await h.ask("U0JUNIOR1")
    assert (await h.get(ref2)).reviewer == "U0SENIOR1"  # routable again: fewest open reviews, same team


async def test_away_for_a_while(h: Harness) -> None:
    assert "marked away until" in (await h.driver.command("U0SENIOR1", "away 3d")).json()["text"]
    h.clock.advance(timedelta(days=3, seconds=1))
    await h.tick()
    assert any("away time is over" in m.text for m in h.slack.dms("U0SENIOR1"))


async def test_a_delegate_gets_the_away_reviewers_new_reviews_first(h: Harness) -> None:
    reply = (await h.driver.command("U0SENIOR1", "away 2d delegate <@U0STAFF1|staff>")).json()["text"]
    assert "<@U0STAFF1> gets them first" in reply
    ref = await h.ask("U0JUNIOR1")  # payments: routing would have picked U0SENIOR1
    assert (await h.get(ref)).reviewer == "U0STAFF1"


async def test_bad_away_arguments_get_the_usage(h: Harness) -> None:
    for arg in ("until tomorrow", "until 2026-13-45", "delegate someone", "3 weeks", "delegate <@U0JUNIOR1>"):
        text = (await h.driver.command("U0SENIOR1", f"away {arg}")).json()["text"]
        assert "Usage" in text or "must be" in text, (arg, text)
    assert await h.audit_actions("away") == 0

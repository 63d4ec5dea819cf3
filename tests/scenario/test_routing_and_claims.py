"""Requests spread over the least-loaded seniors; with nobody eligible they are posted to the
summary channel, where any eligible senior can claim them, once."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.models import Status
from bot.slack import ids
from tests.harness import Harness, running

SOLO = """\
engineers:
  - {user: U0JUNIOR1, level: junior, team: payments}
  - {user: U0SENIOR1, level: senior, team: payments}
  - {user: U0SENIOR2, level: senior, team: platform}
"""


async def test_load_spreads_across_seniors(h: Harness) -> None:
    reviewers = [(await h.get(await h.ask("U0JUNIOR1"))).reviewer for _ in range(3)]
    assert reviewers == ["U0SENIOR1", "U0SENIOR2", "U0STAFF1"]
    assert (await h.get(await h.ask("U0JUNIOR1"))).reviewer == "U0SENIOR1"  # all at 1: own team first


async def test_nobody_eligible_posts_a_claim_button_and_a_senior_claims(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with running(tmp_path, roster=SOLO) as h:
        await h.driver.command("U0SENIOR1", "away")
        await h.driver.command("U0SENIOR2", "away")
        ref = await h.ask("U0JUNIOR1")
        req = await h.get(ref)
        assert req.status is Status.PENDING and req.reviewer is None
        [post] = [p for p in h.slack.posts_in("C0SIGNOFF") if ref in p.text]
        [claim] = next(b for b in post.blocks if b["type"] == "actions")["elements"]
        assert claim["action_id"] == ids.CLAIM
        assert any("posted in <#C0SIGNOFF>" in m.text for m in h.slack.dms("U0JUNIOR1"))

        await h.driver.click("U0JUNIOR1", ids.CLAIM, claim["value"])
        await h.driver.click("U0NOBODY", ids.CLAIM, claim["value"])
        await h.driver.click("U0SENIOR2", ids.CLAIM, claim["value"])
        await h.driver.click("U0SENIOR1", ids.CLAIM, claim["value"])
        await h.settle()
        assert (await h.get(ref)).reviewer == "U0SENIOR2"
        assert h.slack.ephemeral_texts() == [
            f"You are a party to {ref}, so you cannot review it.",
            f"Only senior, staff or principal engineers on the roster can claim {ref}.",
            f"{ref} is already being reviewed by <@U0SENIOR2>.",
        ]
        assert "Claimed by <@U0SENIOR2>" in h.slack.messages[(post.channel, post.ts)].blocks[-1]["elements"][0]["text"]
        dm = h.review_dm("U0SENIOR2", ref)
        assert [b for b in dm.blocks if b["type"] == "actions"]
        assert any(f"{ref} is waiting for <@U0SENIOR2>'s sign-off" in m.text for m in h.slack.dms("U0JUNIOR1"))

        await h.driver.click("U0SENIOR2", ids.APPROVE, ref[3:])
        await h.settle()
        assert (await h.get(ref)).status is Status.APPROVED
        await h.assert_reviewer_stats_consistent()


async def test_a_request_that_loses_both_seats_at_once_tells_its_requester_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two seniors asked, both overdue in the same sweep, nobody else eligible: one Claim post and
    one message to the requester, not one per seat."""
    async with running(tmp_path, roster=SOLO) as h:
        ref = await h.ask("U0JUNIOR1", destructive=True)
        rows = await h.fetchall(
            "SELECT reviewer FROM assignments WHERE request_id = ? ORDER BY reviewer", (int(ref[3:]),)
        )
        assert [r[0] for r in rows] == ["U0SENIOR1", "U0SENIOR2"]
        h.clock.advance(timedelta(days=2))  # past ESCALATE_AFTER for both
        await h.tick()
        told = [m.text for m in h.slack.dms("U0JUNIOR1") if "no senior reviewer is available" in m.text]
        assert len(told) == 1, told
        claim_posts = [
            p
            for p in h.slack.posts_in("C0SIGNOFF")
            if any(e.get("action_id") == ids.CLAIM for b in p.blocks if b["type"] == "actions" for e in b["elements"])
        ]
        assert len(claim_posts) == 1

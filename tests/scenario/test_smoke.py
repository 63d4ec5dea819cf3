"""The happy path end to end: ask, route, approve, and everyone sees it."""

from __future__ import annotations

import json

from bot.domain.models import Status
from bot.slack import ids
from tests.harness import Harness


async def test_ask_route_approve(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    req = await h.get(ref)
    assert req.status is Status.PENDING
    assert req.reviewer == "U0SENIOR1"  # same team as the requester, nobody loaded yet
    dm = h.review_dm("U0SENIOR1", ref)
    buttons = next(b for b in dm.blocks if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == [ids.APPROVE, ids.DENY]
    assert any(f"{ref} is waiting for <@U0SENIOR1>'s sign-off" in m.text for m in h.slack.dms("U0JUNIOR1"))

    reply = await h.driver.click("U0SENIOR1", ids.APPROVE, buttons[0]["value"])
    assert reply.status == 200
    await h.settle()
    assert (await h.get(ref)).status is Status.APPROVED
    dm = h.review_dm("U0SENIOR1", ref)
    assert not [b for b in dm.blocks if b["type"] == "actions"]
    assert "Approved by <@U0SENIOR1> at" in dm.blocks[-1]["elements"][0]["text"]
    assert any("was approved by <@U0SENIOR1>" in m.text for m in h.slack.dms("U0JUNIOR1"))


async def test_the_events_url_answers_slacks_challenge(h: Harness) -> None:
    """Slack checks the Request URL with a signed url_verification before it sends any event."""
    body = json.dumps(
        {"type": "url_verification", "token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    )
    reply = await h.driver.post_signed(body, "application/json")
    assert reply.status == 200
    assert reply.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}

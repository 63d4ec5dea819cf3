"""App Home shows a reviewer's queue with buttons, a requester's requests, and the policy
countdown, and refreshes when its content changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness


async def open_home(h: Harness, user: str) -> None:
    body = {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "api_app_id": "A0SIGNOFF",
        "event_id": f"Ev{user}{len(h.slack.calls)}",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"},
    }
    reply = await h.driver.post_signed(json.dumps(body), "application/json")
    assert reply.status == 200
    await h.settle()


def last_home(h: Harness, user: str) -> list[dict[str, Any]]:
    calls = [c for c in h.slack.calls_to("views.publish", ok=True) if c.args["user_id"] == user]
    assert calls, f"no Home published for {user}"
    view = calls[-1].args["view"]
    return list(view["blocks"])


async def test_reviewer_queue_requester_list_and_countdown(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", title="Rotate TLS certs")
    await open_home(h, "U0SENIOR1")
    blocks = last_home(h, "U0SENIOR1")
    texts = "\n".join(b.get("text", {}).get("text", "") for b in blocks if b["type"] == "section")
    assert "days left" in texts
    assert "*Your review queue (1)*" in texts and ref in texts
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [ids.APPROVE, ids.DENY]

    await open_home(h, "U0JUNIOR1")
    mine = "\n".join(b.get("text", {}).get("text", "") for b in last_home(h, "U0JUNIOR1") if b["type"] == "section")
    assert f"*{ref}* Rotate TLS certs · pending · 0 of 1 approval · <@U0SENIOR1>" in mine

    before = len(h.slack.calls_to("views.publish"))
    await h.driver.click("U0SENIOR1", ids.APPROVE, actions[0]["elements"][0]["value"])
    await h.settle()
    assert len(h.slack.calls_to("views.publish", ok=True)) == before + 2  # both Homes refreshed
    assert all(c.ok for c in h.slack.calls_to("views.publish"))
    assert not [b for b in last_home(h, "U0SENIOR1") if b["type"] == "actions"]
    # The item does not just vanish: the reviewer's Home says what they did.
    home = "\n".join(b.get("text", {}).get("text", "") for b in last_home(h, "U0SENIOR1") if b["type"] == "section")
    assert f":white_check_mark: You approved *{ref}* Rotate TLS certs" in home
    mine = "\n".join(b.get("text", {}).get("text", "") for b in last_home(h, "U0JUNIOR1") if b["type"] == "section")
    assert f"*{ref}* Rotate TLS certs · approved" in mine


async def test_people_who_never_opened_home_get_no_publish(h: Harness) -> None:
    await h.ask("U0JUNIOR1")
    assert h.slack.calls_to("views.publish") == []


async def test_what_a_reviewer_decided_stays_on_their_home_for_a_day(h: Harness) -> None:
    first = await h.ask("U0JUNIOR1", title="Rotate TLS certs")
    await open_home(h, "U0SENIOR1")
    await h.driver.click("U0SENIOR1", ids.APPROVE, first.removeprefix("CR-"))
    second = await h.ask("U0JUNIOR1", title="Drop the cache")
    assert (await h.get(second)).reviewer == "U0SENIOR1"
    h.clock.advance(timedelta(minutes=1))
    await h.driver.submit(
        "U0SENIOR1",
        ids.DENY_FORM,
        reason_values("Not before the freeze ends"),
        private_metadata=second.removeprefix("CR-"),
    )
    await h.settle()
    home = "\n".join(b.get("text", {}).get("text", "") for b in last_home(h, "U0SENIOR1") if b["type"] == "section")
    assert home.index(f"You denied *{second}*") < home.index(f"You approved *{first}*")  # newest first
    assert "Not before the freeze ends" in home
    h.clock.advance(timedelta(hours=25))
    await open_home(h, "U0SENIOR1")
    home = "\n".join(b.get("text", {}).get("text", "") for b in last_home(h, "U0SENIOR1") if b["type"] == "section")
    assert "You approved" not in home and "You denied" not in home


async def test_refreshes_queued_together_publish_a_home_once(h: Harness) -> None:
    """Five changes for one reviewer, delivered in one batch, republish their App Home once,
    showing all five: a refresh renders what is stored when it goes out."""
    for other in ("U0SENIOR2", "U0STAFF1"):
        await h.driver.command(other, "away")
    await open_home(h, "U0SENIOR1")
    before = len([c for c in h.slack.calls_to("views.publish") if c.args["user_id"] == "U0SENIOR1"])
    await h.bot.outbox.stop()  # what the five queue waits, and goes out in one batch
    for n in range(5):
        body = {"requester": "U0JUNIOR1", "title": f"Change {n}", "url": "https://x.example/1", "ai_assisted": True,
                "destructive": False}  # fmt: skip
        assert (await h.api("POST", "/api/v1/requests", body))[0] == 201
    await h.bot.outbox.start()
    await h.settle()
    published = [c for c in h.slack.calls_to("views.publish") if c.args["user_id"] == "U0SENIOR1"]
    assert len(published) - before == 1
    home = "\n".join(b.get("text", {}).get("text", "") for b in last_home(h, "U0SENIOR1") if b["type"] == "section")
    assert "*Your review queue (5)*" in home

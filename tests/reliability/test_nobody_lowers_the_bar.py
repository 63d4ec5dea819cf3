"""Nobody lowers the bar by choosing who asks.

The policy looks at everyone known to have written a change, the requester and every
author: if any of them would need sign-off, the request needs it, and none of them may
review it. A requester Slack does not know is refused with 422, by ID as by email.
"""

from __future__ import annotations

from typing import Any

from bot.slack import ids
from tests.harness import Harness

BODY: dict[str, Any] = {
    "title": "Recreate the staging environment",
    "url": "https://github.com/acme/infra/pull/9",
    "ai_assisted": True,
    "destructive": False,
}


async def test_a_senior_requester_cannot_carry_a_junior_authors_change_through(h: Harness) -> None:
    h.slack.add_email("junior@example.com", "U0JUNIOR1")
    h.slack.add_email("carol@example.com", "U0SENIOR1")
    body = {**BODY, "requester": "carol@example.com", "authors": ["junior@example.com"]}
    status, created = await h.api("POST", "/api/v1/requests", body)
    assert status == 201, created
    assert created["status"] == "pending" and created["sign_off_required"] is True
    assert "junior" in created["policy_reason"]
    assert created["reviewer"] not in ("U0SENIOR1", "U0JUNIOR1")
    await h.settle()
    # Neither the requester nor the author may approve it.
    for party in ("U0SENIOR1", "U0JUNIOR1"):
        await h.driver.click(party, ids.APPROVE, "1")
    assert (await h.get(created["id"])).status.value == "pending"


async def test_an_author_not_on_the_roster_fails_closed(h: Harness) -> None:
    body = {**BODY, "requester": "U0SENIOR1", "authors": ["someone@elsewhere.example.com"]}
    status, created = await h.api("POST", "/api/v1/requests", body)
    assert status == 201
    assert created["sign_off_required"] is True
    assert "not on the roster" in created["policy_reason"]


async def test_seniors_only_is_still_not_required(h: Harness) -> None:
    body = {**BODY, "requester": "U0SENIOR1", "authors": ["U0STAFF1"]}
    status, created = await h.api("POST", "/api/v1/requests", body)
    assert status == 201
    assert created["status"] == "not_required"


async def test_a_requester_id_slack_does_not_know_is_refused(h: Harness) -> None:
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "requester": "U0GHOST99"})
    assert status == 422, body
    assert "requester" in body["fields"]
    row = await h.fetchone("SELECT COUNT(*) FROM requests")
    assert row is not None and row[0] == 0

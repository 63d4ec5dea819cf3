"""An AI-assisted change that deletes or replaces resources needs two distinct seniors, whoever
asks: both are asked at once, each DM leads with what the change destroys and shows the
approvals so far, one approval leaves it pending, one denial ends it, and reminders and
escalation work per reviewer."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import SUMMARY, Harness, running

PLANS = Path(__file__).parents[1] / "plans"


def texts(blocks: list[dict]) -> str:  # type: ignore[type-arg]
    return json.dumps(blocks)


async def test_a_destructive_change_by_a_senior_needs_two_other_seniors(h: Harness) -> None:
    ref = await h.ask("U0SENIOR1", destructive=True)
    req = await h.get(ref)
    assert (req.status.value, req.approvals_needed) == ("pending", 2)
    assert req.policy_reason == "it deletes or replaces existing resources"
    first = h.review_dm("U0SENIOR2", ref)
    h.review_dm("U0STAFF1", ref)  # both asked at once
    assert not any("needs your sign-off" in m.text for m in h.slack.dms("U0SENIOR1"))  # never the requester
    lead = first.blocks[1]["text"]["text"]
    assert "Deletes or replaces existing resources" in lead  # first, before the rest of the request
    assert "0 of 2 approvals" in texts(first.blocks)

    await h.driver.click("U0SENIOR2", ids.APPROVE, ref.removeprefix("CR-"))
    await h.settle()
    req = await h.get(ref)
    assert (req.status.value, req.approvals) == ("pending", 1)
    stamp = h.clock.now().strftime("%H:%M")
    for dm in (h.review_dm("U0SENIOR2", ref), h.review_dm("U0STAFF1", ref)):
        assert f"1 of 2 approvals*: approved by <@U0SENIOR2> at {stamp}" in texts(dm.blocks)
    assert ids.APPROVE not in texts(h.review_dm("U0SENIOR2", ref).blocks)  # their part is done
    assert ids.APPROVE in texts(h.review_dm("U0STAFF1", ref).blocks)
    assert not any("approved" in m.text for m in h.slack.dms("U0SENIOR1"))  # the requester waits

    await h.driver.click("U0SENIOR2", ids.APPROVE, ref.removeprefix("CR-"))  # again: refused, still one
    await h.settle()
    assert any(f"You already approved {ref} (1 of 2 approvals)" in t for t in h.slack.ephemeral_texts())
    assert (await h.get(ref)).approvals == 1

    await h.driver.click("U0STAFF1", ids.APPROVE, ref.removeprefix("CR-"))
    await h.settle()
    req = await h.get(ref)
    assert (req.status.value, req.approvals, req.decided_by) == ("approved", 2, "U0STAFF1")
    assert any(f"{ref} was approved" in m.text for m in h.slack.dms("U0SENIOR1"))
    assert "Approved by <@U0STAFF1>" in texts(h.review_dm("U0SENIOR2", ref).blocks)
    status, body = await h.api("GET", f"/api/v1/requests/{ref}")
    assert (status, body["approvals"], body["approvals_needed"], body["destroys"]) == (200, 2, 2, True)
    assert sorted(body["reviewers"]) == ["U0SENIOR2", "U0STAFF1"]


async def test_one_denial_after_one_approval_ends_it(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)
    number = ref.removeprefix("CR-")
    _, body = await h.api("GET", f"/api/v1/requests/{ref}")
    first, second = body["reviewers"]
    await h.driver.click(first, ids.APPROVE, number)
    await h.driver.submit(second, ids.DENY_FORM, reason_values("Restore from backup first"), private_metadata=number)
    await h.settle()
    req = await h.get(ref)
    assert (req.status.value, req.approvals, req.decided_by, req.reason) == (
        "denied",
        1,
        second,
        "Restore from backup first",
    )
    assert any(f"{ref} was denied" in m.text for m in h.slack.dms("U0JUNIOR1"))
    await h.driver.click(first, ids.APPROVE, number)
    await h.settle()
    assert (await h.get(ref)).status.value == "denied"


async def test_routing_asks_one_from_the_owning_team_and_one_from_elsewhere(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)  # payments
    _, body = await h.api("GET", f"/api/v1/requests/{ref}")
    assert sorted(body["reviewers"]) == ["U0SENIOR1", "U0SENIOR2"]  # payments, then platform
    assert "junior engineer" in body["policy_reason"]


async def test_a_change_that_destroys_nothing_keeps_todays_rule(h: Harness) -> None:
    by_junior = await h.ask("U0JUNIOR1", destructive=False)
    by_senior = await h.ask("U0SENIOR1", destructive=False)
    assert ((await h.get(by_junior)).approvals_needed, (await h.get(by_junior)).status.value) == (1, "pending")
    assert (await h.get(by_senior)).status.value == "not_required"


async def test_the_form_insists_on_the_destructive_question(h: Harness) -> None:
    from tests.fakes.driver import form_values

    reply = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values(destructive=None))
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"destructive": "This answer is required: say yes or no"},
    }
    assert await h.fetchone("SELECT id FROM requests") is None


async def test_escalation_moves_only_the_reviewer_who_did_not_answer(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)  # SENIOR1 and SENIOR2
    number = ref.removeprefix("CR-")
    await h.driver.click("U0SENIOR1", ids.APPROVE, number)
    await h.settle()
    h.clock.advance(timedelta(hours=5))
    await h.tick()
    assert any("Reminder" in m.text for m in h.slack.dms("U0SENIOR2"))
    assert not any("Reminder" in m.text for m in h.slack.dms("U0SENIOR1"))  # done: not nagged
    h.clock.advance(timedelta(hours=20))
    await h.tick()
    _, body = await h.api("GET", f"/api/v1/requests/{ref}")
    assert body["status"] == "pending" and body["approvals"] == 1
    assert body["reviewers"] == ["U0SENIOR1", "U0SENIOR2", "U0STAFF1"]
    assert f"{ref} reassigned to <@U0STAFF1>" in h.channel_posts()
    assert ids.APPROVE not in texts(h.review_dm("U0SENIOR2", ref).blocks)
    await h.driver.click("U0STAFF1", ids.APPROVE, number)
    await h.settle()
    assert (await h.get(ref)).status.value == "approved"


async def test_too_few_seniors_posts_the_missing_seat_for_claiming(tmp_path: Path) -> None:
    roster = """\
admins: [U0ADMIN1]
engineers:
  - {user: U0JUNIOR1, level: junior, team: payments}
  - {user: U0SENIOR1, level: senior, team: payments}
  - {user: U0SENIOR2, level: senior, team: platform}
"""
    async with running(tmp_path, roster=roster, DESTRUCTIVE_APPROVALS=3) as h:
        ref = await h.ask("U0JUNIOR1", destructive=True)
        req = await h.get(ref)
        assert req.approvals_needed == 3
        claim = [m for m in h.slack.posts_in(SUMMARY) if "needs a senior reviewer" in m.text]
        assert len(claim) == 1 and ids.CLAIM in texts(claim[0].blocks)
        number = ref.removeprefix("CR-")
        await h.driver.click("U0SENIOR1", ids.CLAIM, number)  # already a reviewer
        await h.settle()
        assert any(f"You are already a reviewer of {ref}" in t for t in h.slack.ephemeral_texts())


async def test_one_approval_is_enough_when_the_setting_says_so(tmp_path: Path) -> None:
    async with running(tmp_path, DESTRUCTIVE_APPROVALS=1) as h:
        ref = await h.ask("U0SENIOR1", destructive=True)
        req = await h.get(ref)
        assert (req.status.value, req.approvals_needed) == ("pending", 1)
        _, body = await h.api("GET", f"/api/v1/requests/{ref}")
        await h.driver.click(body["reviewers"][0], ids.APPROVE, ref.removeprefix("CR-"))
        await h.settle()
        assert (await h.get(ref)).status.value == "approved"


async def test_status_pending_and_summary_show_n_of_m(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref.removeprefix("CR-"))
    reply = await h.driver.command("U0JUNIOR1", f"status {ref}")
    assert "1 of 2 approvals" in reply.text
    reply = await h.driver.command("U0JUNIOR1", "pending")
    assert "1 of 2 approvals" in reply.text
    await h.driver.command("U0JUNIOR1", "summary")
    await h.settle()
    assert any("1 of 2 approvals" in texts(m.blocks) for m in h.slack.posts_in(SUMMARY))
    report = await h.report()
    assert "1 needed more than one senior as destructive" in report

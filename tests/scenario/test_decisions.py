"""Only the assigned reviewer decides; the clicker comes from the signed payload; the first
decision wins; a denial needs a reason; everyone affected sees the outcome."""

from __future__ import annotations

from bot.domain.models import Status
from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness


async def refusals(h: Harness) -> list[tuple[str, str]]:
    rows = await h.fetchall("SELECT actor, reason FROM audit WHERE action = 'refused' ORDER BY id")
    return [(r["actor"], r["reason"]) for r in rows]


async def test_deny_asks_for_a_reason_and_tells_the_requester(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    reply = await h.driver.click("U0SENIOR1", ids.DENY, ref.removeprefix("CR-"))
    assert reply.status == 200
    await h.settle()
    [opened] = h.slack.opened_views
    assert opened["callback_id"] == ids.DENY_FORM
    assert (await h.get(ref)).status is Status.PENDING  # opening the form decides nothing

    empty = await h.driver.submit(
        "U0SENIOR1", ids.DENY_FORM, reason_values(""), private_metadata=opened["private_metadata"]
    )
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reason": "A denial needs a reason the requester can act on"},
    }
    assert (await h.get(ref)).status is Status.PENDING

    done = await h.driver.submit(
        "U0SENIOR1",
        ids.DENY_FORM,
        reason_values("No rollback plan <!channel>"),
        private_metadata=opened["private_metadata"],
    )
    assert done.status == 200 and done.text == ""
    await h.settle()
    req = await h.get(ref)
    assert req.status is Status.DENIED and req.reason == "No rollback plan <!channel>"
    dm = h.review_dm("U0SENIOR1", ref)
    assert not [b for b in dm.blocks if b["type"] == "actions"]
    assert "Denied by <@U0SENIOR1> at" in dm.blocks[-1]["elements"][0]["text"]
    assert dm.blocks[0]["type"] == "header"  # the content is kept
    told = [m.text for m in h.slack.dms("U0JUNIOR1") if "was denied" in m.text]
    assert len(told) == 1 and "No rollback plan &lt;!channel&gt;" in told[0]


async def test_nobody_but_the_reviewer_can_decide(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    value = ref.removeprefix("CR-")
    for intruder in ("U0JUNIOR1", "U0SENIOR2", "U0ADMIN1", "U0NOBODY"):
        assert (await h.driver.click(intruder, ids.APPROVE, value)).status == 200
    await h.settle()
    assert (await h.get(ref)).status is Status.PENDING
    texts = h.slack.ephemeral_texts()
    assert len(texts) == 4
    assert texts[0] == f"You asked for {ref}, so you cannot review it. A senior reviewer has to."
    assert all(t == f"Only the assigned reviewer (<@U0SENIOR1>) can decide {ref}." for t in texts[1:])
    assert await refusals(h) == [
        ("U0JUNIOR1", "self_review"),
        ("U0SENIOR2", "not_reviewer"),
        ("U0ADMIN1", "not_reviewer"),
        ("U0NOBODY", "not_reviewer"),
    ]
    assert h.review_dm("U0SENIOR1", ref).updates == 0


async def test_a_denial_form_from_someone_else_is_refused_on_the_field(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    reply = await h.driver.submit("U0SENIOR2", ids.DENY_FORM, reason_values("no"), private_metadata=ref[3:])
    assert reply.json()["errors"]["reason"] == f"Only the assigned reviewer (<@U0SENIOR1>) can decide {ref}."
    assert (await h.get(ref)).status is Status.PENDING


async def test_the_first_decision_wins_and_later_clicks_are_told_who(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.driver.click("U0SENIOR1", ids.DENY, ref[3:])
    await h.settle()
    assert (await h.get(ref)).status is Status.APPROVED
    assert h.slack.ephemeral_texts() == [f"{ref} is already approved by <@U0SENIOR1>."] * 2
    assert h.slack.opened_views == []


async def test_a_forged_button_value_cannot_decide_someone_elses_request(h: Harness) -> None:
    mine = await h.ask("U0JUNIOR1")
    theirs = await h.ask("U0JUNIOR2")
    assert (await h.get(theirs)).reviewer != "U0SENIOR1"
    await h.driver.click("U0SENIOR1", ids.APPROVE, theirs[3:])
    await h.settle()
    assert (await h.get(theirs)).status is Status.PENDING
    assert (await h.get(mine)).status is Status.PENDING


async def test_two_approvals_can_be_required_and_count_distinct_people(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    await h.add_reviewer(ref, "U0STAFF1")  # a stricter policy: two seniors
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    assert (await h.get(ref)).status is Status.PENDING
    assert h.slack.ephemeral_texts() == [
        f"You already approved {ref} (1 of 2 approvals); it still needs another senior's approval."
    ]
    await h.driver.click("U0STAFF1", ids.APPROVE, ref[3:])
    await h.settle()
    req = await h.get(ref)
    assert req.status is Status.APPROVED and req.decided_by == "U0STAFF1"

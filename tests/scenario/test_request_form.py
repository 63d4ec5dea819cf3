"""`/signoff` opens the form; what is submitted is validated field by field, stored once,
and answered with the request's id. Bad input is shown on the field and stores nothing."""

from __future__ import annotations

import json

from bot.domain.models import Status
from bot.slack import ids
from tests.fakes.driver import form_values
from tests.harness import Harness


async def count_requests(h: Harness) -> int:
    row = await h.fetchone("SELECT COUNT(*) FROM requests")
    assert row is not None
    return int(row[0])


async def test_slash_command_opens_the_form(h: Harness) -> None:
    reply = await h.driver.command("U0JUNIOR1", "")
    assert reply.status == 200
    await h.settle()
    [call] = h.slack.calls_to("views.open", ok=True)
    view = call.args["view"] if isinstance(call.args["view"], dict) else json.loads(call.args["view"])
    assert view["title"]["text"] == "Request sign-off"
    assert view["callback_id"] == ids.REQUEST_FORM
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert block_ids == list(ids.FORM_FIELDS)
    radio = next(b for b in view["blocks"] if b["block_id"] == "ai_assisted")
    assert "initial_option" not in radio["element"]  # yes/no has no default


async def test_an_expired_trigger_tells_the_person_to_try_again(h: Harness) -> None:
    reply = await h.driver.command("U0JUNIOR1", "", trigger_id=h.slack.issue_trigger(age_seconds=5))
    assert reply.status == 200
    await h.settle()
    assert h.slack.calls_to("views.open")[0].error == "expired_trigger_id"
    assert any("could not open (expired_trigger_id)" in t for t in h.slack.ephemeral_texts())


async def test_invalid_fields_are_shown_on_the_fields_and_nothing_is_stored(h: Harness) -> None:
    values = form_values(title="", url="ftp://nope", description="x" * 10_000, ai_assisted=None)
    reply = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, values)
    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"title", "url", "description", "ai_assisted"}
    assert body["errors"]["title"] == "The title is required"
    assert "http://" in body["errors"]["url"]
    assert "at most 3000" in body["errors"]["description"]
    assert await count_requests(h) == 0


async def test_fixed_input_is_accepted_on_the_same_form(h: Harness) -> None:
    bad = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values(title=""), view_id="V0SAMEFORM")
    assert bad.json()["response_action"] == "errors"
    good = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values(), view_id="V0SAMEFORM")
    assert good.json()["response_action"] == "update"
    assert await count_requests(h) == 1


async def test_a_double_submission_creates_one_request(h: Harness) -> None:
    payload = h.driver.view_payload("U0JUNIOR1", ids.REQUEST_FORM, form_values(), view_id="V0DOUBLE")
    first = await h.driver.payload(payload)
    payload["trigger_id"] = h.slack.issue_trigger()  # Slack's second delivery differs only in trigger
    second = await h.driver.payload(payload)
    assert first.status == second.status == 200
    await h.settle()
    assert await count_requests(h) == 1
    assert len(h.review_dm("U0SENIOR1", "CR-1").blocks) > 0


async def test_not_ai_assisted_is_recorded_as_not_required(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", ai_assisted=False)
    req = await h.get(ref)
    assert req.status is Status.NOT_REQUIRED
    assert req.reviewer is None
    [dm] = h.slack.dms("U0JUNIOR1")
    assert dm.text.startswith(f"{ref} is recorded. Sign-off is not required: it was not written with AI")
    assert h.slack.calls_to("chat.postMessage", ok=True) == h.slack.calls_to("chat.postMessage")
    assert len([c for c in h.slack.calls_to("chat.postMessage") if c.args["channel"] != "C0SIGNOFF"]) == 1


async def test_seniors_do_not_need_signoff(h: Harness) -> None:
    ref = await h.ask("U0SENIOR2")
    assert (await h.get(ref)).status is Status.NOT_REQUIRED
    assert "a senior engineer wrote it" in h.slack.dms("U0SENIOR2")[0].text


async def test_someone_not_on_the_roster_fails_closed(h: Harness) -> None:
    ref = await h.ask("U0NOBODY")
    req = await h.get(ref)
    assert req.status is Status.PENDING and req.sign_off_required
    assert "not on the roster" in req.policy_reason
    assert req.reviewer is not None


async def test_user_text_cannot_ping_the_channel(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", title="<!channel> deploy <@U0STAFF1>", description="<!here> " + "d" * 2900)
    dm = h.review_dm("U0SENIOR1", ref)
    assert "<!channel>" not in dm.text and "&lt;!channel&gt;" in dm.text
    for block in dm.blocks:
        if block.get("text", {}).get("type") == "mrkdwn":
            assert "<!" not in block["text"]["text"]
    assert all(c.ok for c in h.slack.calls_to("chat.postMessage"))

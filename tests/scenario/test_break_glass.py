"""Break-glass: approved at once, loudly (the summary channel and every admin hear who, what and
why), and reviewed after the fact by a senior, with reminders and escalation; in every summary
until reviewed; counted in the report. A reason is required, and only people on the roster can
break glass."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.slack import ids
from tests.cli import run
from tests.fakes.driver import form_values
from tests.harness import SUMMARY, Harness

CLI = ("request", "--title", "Hotfix checkout", "--url", "https://git.example.com/mr/5", "--ai-assisted")


def note(text: str) -> dict[str, Any]:
    return {"note": {"value": {"type": "plain_text_input", "value": text or None}}}


def after_the_fact_dm(h: Harness, reviewer: str, ref: str) -> Any:
    found = [m for m in h.slack.dms(reviewer) if m.text.startswith(f"{ref} was approved by break-glass")]
    assert len(found) == 1, [m.text for m in h.slack.dms(reviewer)]
    return found[0]


async def test_break_glass_from_the_cli_approves_at_once_and_is_loud(h: Harness) -> None:
    result = await run(h, *CLI, "--requester", "U0JUNIOR1", "--destructive", "--break-glass", "Checkout is down")
    assert result.code == 0, result.err
    assert "CR-1 approved by break-glass (June Junior)" in result.out
    await h.settle()
    req = await h.get("CR-1")
    assert req.status.value == "approved" and req.break_glass is not None
    assert (req.break_glass.reason, req.break_glass.verdict.value) == ("Checkout is down", "pending")
    posts = [m for m in h.slack.posts_in(SUMMARY) if "Break-glass" in m.text]
    assert len(posts) == 1
    loud = json.dumps(posts[0].blocks)
    assert "<@U0JUNIOR1>" in loud and "Hotfix checkout" in loud and "Checkout is down" in loud
    assert any("Break-glass" in m.text for m in h.slack.dms("U0ADMIN1"))
    dm = after_the_fact_dm(h, "U0SENIOR1", "CR-1")  # routed like any request, to one senior
    assert ids.JUSTIFIED in json.dumps(dm.blocks) and "Checkout is down" in json.dumps(dm.blocks)
    assert await h.audit_actions("break_glass") == 1


async def test_the_review_after_the_fact_records_a_verdict_once(h: Harness) -> None:
    await run(h, *CLI, "--requester", "U0JUNIOR1", "--not-destructive", "--break-glass", "Checkout is down")
    await h.settle()
    await h.driver.click("U0SENIOR1", ids.NOT_JUSTIFIED, "1")
    await h.settle()
    assert h.slack.calls_to("views.open")[-1].args["view"]["callback_id"] == ids.AFTER_THE_FACT_FORM
    empty = await h.driver.submit("U0SENIOR1", ids.AFTER_THE_FACT_FORM, note(""), private_metadata="1:not_justified")
    assert "note" in empty.json()["errors"]
    reply = await h.driver.submit(
        "U0SENIOR1", ids.AFTER_THE_FACT_FORM, note("A rollback would have done"), private_metadata="1:not_justified"
    )
    assert reply.text == ""
    await h.settle()
    req = await h.get("CR-1")
    assert req.break_glass is not None
    assert (req.break_glass.verdict.value, req.break_glass.reviewed_by) == ("not_justified", "U0SENIOR1")
    assert any("NOT justified" in m.text for m in h.slack.posts_in(SUMMARY))
    assert "not justified" in json.dumps(after_the_fact_dm(h, "U0SENIOR1", "CR-1").blocks)
    again = await h.driver.submit("U0SENIOR1", ids.AFTER_THE_FACT_FORM, note("Fine"), private_metadata="1:justified")
    assert "already reviewed" in again.json()["errors"]["note"]
    assert (await h.get("CR-1")).break_glass.verdict.value == "not_justified"  # type: ignore[union-attr]

    report = await h.report()
    assert "1 used, 1 reviewed after the fact, 1 judged not justified" in report
    assert "<@U0JUNIOR1>: 1 used, 1 reviewed, 1 not justified" in report
    assert "team payments: 1 used, 1 reviewed, 1 not justified" in report
    assert "deletes or replaces resources (or does not say) needs 2 senior approvals" in report


async def test_only_the_assigned_senior_who_is_not_a_party_reviews(h: Harness) -> None:
    await run(h, *CLI, "--requester", "U0SENIOR2", "--not-destructive", "--break-glass", "DNS outage")
    await h.settle()
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    reviewer = body["reviewers"][0]
    assert reviewer != "U0SENIOR2"
    for intruder in ("U0SENIOR2", "U0JUNIOR1"):
        await h.driver.click(intruder, ids.JUSTIFIED, "1")
    await h.settle()
    texts = h.slack.ephemeral_texts()
    assert any("so another senior reviews it" in t for t in texts)
    assert any(f"Only <@{reviewer}> can review CR-1" in t for t in texts)
    assert (await h.get("CR-1")).break_glass.verdict.value == "pending"  # type: ignore[union-attr]


async def test_unreviewed_break_glass_is_in_every_summary_and_escalates(h: Harness) -> None:
    await run(h, *CLI, "--requester", "U0JUNIOR1", "--not-destructive", "--break-glass", "Checkout is down")
    await h.settle()
    for _ in range(2):
        await h.driver.command("U0JUNIOR1", "summary")
        await h.settle()
        h.clock.advance(timedelta(minutes=2))
    summaries = [m for m in h.slack.posts_in(SUMMARY) if m.text.startswith("Pending sign-offs")]
    assert len(summaries) == 2
    assert all("Break-glass changes awaiting review: 1" in json.dumps(m.blocks) for m in summaries)

    h.clock.advance(timedelta(hours=5))
    await h.tick()
    assert any("waits for your review after the fact" in m.text for m in h.slack.dms("U0SENIOR1"))
    h.clock.advance(timedelta(hours=20))
    await h.tick()
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    assert body["reviewers"] == ["U0SENIOR1", "U0SENIOR2"]
    assert body["status"] == "approved"  # escalating the review never touches the outcome
    assert not any("CR-1" in m.text and "now with" in m.text for m in h.slack.dms("U0JUNIOR1"))
    await h.driver.click("U0SENIOR2", ids.JUSTIFIED, "1")
    await h.driver.submit("U0SENIOR2", ids.AFTER_THE_FACT_FORM, note("Outage, fair"), private_metadata="1:justified")
    await h.settle()
    await h.driver.command("U0JUNIOR1", "summary")
    await h.settle()
    last = [m for m in h.slack.posts_in(SUMMARY) if m.text.startswith("Pending sign-offs")][-1]
    assert "Break-glass changes awaiting review" not in json.dumps(last.blocks)


async def test_break_glass_from_slack_needs_a_reason_and_the_roster(h: Harness) -> None:
    opened = await h.driver.command("U0JUNIOR1", "breakglass")
    assert opened.status == 200
    await h.settle()
    assert h.slack.calls_to("views.open")[-1].args["view"]["callback_id"] == ids.BREAK_GLASS_FORM

    no_reason = await h.driver.submit("U0JUNIOR1", ids.BREAK_GLASS_FORM, form_values(break_glass=""))
    assert "break_glass" in no_reason.json()["errors"]
    reply = await h.driver.submit("U0JUNIOR1", ids.BREAK_GLASS_FORM, form_values(break_glass="Payments down"))
    assert "approved by break-glass" in json.dumps(reply.json())
    await h.settle()
    assert (await h.get("CR-1")).status.value == "approved"

    admin = await h.driver.command("U0ADMIN1", "breakglass")  # admins are on the roster too
    assert admin.text == ""
    outsider = (await h.driver.command("U0NOBODY", "breakglass")).json()
    assert "Only engineers on signoff's roster can break glass" in outsider["text"]
    forged = await h.driver.submit("U0NOBODY", ids.BREAK_GLASS_FORM, form_values(break_glass="Let me in"))
    assert "Only engineers on signoff's roster" in forged.json()["errors"]["title"]
    assert await h.fetchone("SELECT id FROM requests WHERE requester = 'U0NOBODY'") is None
    assert await h.audit_actions("refused") >= 1


async def test_break_glass_over_the_api_needs_a_reason(h: Harness) -> None:
    base = {"requester": "U0JUNIOR1", "title": "x", "url": "https://e.com/1", "ai_assisted": True}
    for bad in ("", "   ", 42, "x" * 1001):
        status, body = await h.api("POST", "/api/v1/requests", {**base, "break_glass": bad})
        assert status == 422 and "break_glass" in body["fields"], (bad, body)
    status, body = await h.api("POST", "/api/v1/requests", {**base, "requester": "U0NOBODY", "break_glass": "x"})
    assert status == 403 and "roster" in body["message"]
    result = await run(h, *CLI, "--requester", "U0JUNIOR1", "--break-glass", " ")
    assert result.code == 3 and "--break-glass needs" in result.err
    assert await h.fetchone("SELECT id FROM requests") is None


async def test_a_fourth_break_glass_in_a_day_is_refused_naming_the_others(h: Harness) -> None:
    for n in range(1, 4):
        used = await run(h, *CLI, "--requester", "U0JUNIOR1", "--not-destructive", "--break-glass", f"Outage {n}")
        assert used.code == 0, used.err
        h.clock.advance(timedelta(hours=1))
    fourth = await run(h, *CLI, "--requester", "U0JUNIOR1", "--not-destructive", "--break-glass", "Outage 4")
    assert fourth.code == 3
    assert "You have broken glass 3 times in the last 24 hours (CR-1, CR-2, CR-3); the limit is 3" in fourth.err
    status, body = await h.api(
        "POST",
        "/api/v1/requests",
        {"requester": "U0JUNIOR1", "title": "x", "url": "https://e.com/9", "ai_assisted": True, "break_glass": "y"},
    )
    assert status == 403 and body["code"] == "break_glass_limit"
    rows = await h.fetchall("SELECT reason FROM audit WHERE action = 'refused' ORDER BY id")
    assert [r[0] for r in rows] == ["break_glass_limit", "break_glass_limit"]
    assert (await h.fetchone("SELECT COUNT(*) FROM requests"))[0] == 3

    others = await run(h, *CLI, "--requester", "U0JUNIOR2", "--not-destructive", "--break-glass", "Outage 5")
    assert others.code == 0  # the limit is per person
    h.clock.advance(timedelta(hours=22))  # 24 hours after the first
    again = await run(h, *CLI, "--requester", "U0JUNIOR1", "--not-destructive", "--break-glass", "Outage 6")
    assert again.code == 0, again.err


async def test_every_senior_who_would_have_been_asked_hears_of_it(h: Harness) -> None:
    await run(h, *CLI, "--requester", "U0JUNIOR1", "--destructive", "--break-glass", "Checkout is down")
    await h.settle()
    for senior in ("U0SENIOR1", "U0SENIOR2"):  # a destructive change would have asked both
        assert any(m.text.startswith("Break-glass") for m in h.slack.dms(senior)), [m.text for m in h.slack.dms(senior)]
    assert any(m.text.startswith("Break-glass") for m in h.slack.dms("U0ADMIN1"))
    assert not any(m.text.startswith("Break-glass") for m in h.slack.dms("U0JUNIOR1"))  # not the one who broke it


async def test_a_reason_needs_visible_text(h: Harness) -> None:
    base = {"requester": "U0JUNIOR1", "title": "x", "url": "https://e.com/1", "ai_assisted": True}
    for invisible in ("\u200b", "\u200b\u200d\ufeff", "\u2060 \u00ad"):
        status, body = await h.api("POST", "/api/v1/requests", {**base, "break_glass": invisible})
        assert status == 422 and "break_glass" in body["fields"], (invisible, body)
        reply = await h.driver.submit("U0JUNIOR1", ids.BREAK_GLASS_FORM, form_values(break_glass=invisible))
        assert "break_glass" in reply.json()["errors"]
    assert await h.fetchone("SELECT id FROM requests") is None

"""A request never parks for ever: REQUEST_TTL after it was made, a request nobody decided
expires with the reason "no decision within 7 days". Its requester is told, its reviewers' DMs
lose their buttons, a waiting `signoff request --wait` exits 2 with that reason, a Workflow step
ends with an error, and the summary flags requests within a day of it. A pipeline that stops
waiting expires its own request. Every way a request ends has its own words, everywhere."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.slack import ids
from tests.cli import ASK, finish, run, start
from tests.fakes.driver import reason_values
from tests.harness import NAMES, SUMMARY, Harness, running

TTL = timedelta(days=7)


def has_buttons(message: Any) -> bool:
    return any(b.get("type") == "actions" for b in message.blocks)


async def reviewer_of(h: Harness, ref: str) -> str:
    _, body = await h.api("GET", f"/api/v1/requests/{ref}")
    return str(body["reviewer"])


def review_dms(h: Harness, reviewer: str, ref: str) -> list[Any]:
    return [m for m in h.slack.dms(reviewer) if m.text.startswith(f"{ref} ") or f"*{ref}*" in json.dumps(m.blocks)]


async def test_a_request_nobody_decides_expires_after_seven_days(h: Harness) -> None:
    waiting = await start(h, *ASK, "--ai-assisted", "--wait", "--timeout", "10m")
    await h.slack.wait_for(lambda: len(h.slack.dms("U0SENIOR1")) == 1, timeout=60)
    assert has_buttons(h.review_dm("U0SENIOR1", "CR-1"))

    h.clock.advance(TTL - timedelta(seconds=1))
    await h.tick()
    assert (await h.get("CR-1")).status.value == "pending"  # reminded and escalated, still pending
    h.clock.advance(timedelta(seconds=1))
    await h.tick()

    result = await finish(waiting)
    assert result.code == 2
    assert "CR-1 expired: no decision within 7 days; it was not approved" in result.out
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    assert (body["status"], body["final_reason"]) == ("expired", "no_decision")
    assert body["outcome"] == "expired: no decision within 7 days"
    told = [m.text for m in h.slack.dms("U0JUNIOR1") if "CR-1" in m.text]
    assert any("expired" in t and "no decision within 7 days" in t for t in told), told
    for reviewer in body["reviewers"]:
        assert [m for m in review_dms(h, reviewer, "CR-1") if has_buttons(m)] == []
    assert await h.audit_actions("expired") == 1
    await h.tick()
    assert await h.audit_actions("expired") == 1  # once


async def test_a_ttl_shorter_than_escalation_expires_before_anything_escalates(tmp_path: Path) -> None:
    async with running(tmp_path, REQUEST_TTL="2h", REMINDER_AFTER="1h", ESCALATE_AFTER="3h") as h:
        ref = await h.ask("U0JUNIOR1")
        h.clock.advance(timedelta(hours=1))
        await h.tick()
        assert await h.audit_actions("reminded") == 1
        h.clock.advance(timedelta(hours=1))
        await h.tick()
        req = await h.get(ref)
        assert (req.status.value, req.reason) == ("expired", "no decision within 2 hours")
        h.clock.advance(timedelta(hours=2))
        await h.tick()
        assert await h.audit_actions("escalated") == 0
        assert [m for m in h.slack.dms("U0SENIOR2") if ref in m.text] == []  # nobody else was asked


async def test_a_workflow_step_ends_with_the_reason(h: Harness) -> None:
    execution, reply = await h.driver.run_step(
        {
            "title": "Rotate the payments database password",
            "link": "https://github.com/acme/payments/pull/88",
            "requester": "U0JUNIOR1",
            "ai_assisted": True,
            "destructive": False,
        }
    )
    assert reply.status == 200
    await h.settle()
    h.clock.advance(TTL)
    await h.tick()
    done = h.slack.executions[execution]
    assert done["state"] == "failed"
    assert "CR-1 expired: no decision within 7 days" in done["error"]


async def test_the_summary_flags_requests_within_a_day_of_expiring(h: Harness) -> None:
    old = await h.ask("U0JUNIOR1", title="Old change")
    h.clock.advance(TTL - timedelta(hours=10))
    new = await h.ask("U0JUNIOR2", title="New change")
    await h.driver.command("U0JUNIOR1", "summary")
    await h.settle()
    text = json.dumps(h.slack.posts_in(SUMMARY)[-1].blocks)
    flagged = [line for line in text.split("\\n") if "expires in" in line]
    assert len(flagged) == 1 and old in flagged[0] and "expires in 10h00m" in flagged[0], flagged
    assert new in text


async def test_a_pipeline_that_stops_waiting_expires_its_request(h: Harness) -> None:
    result = await run(h, *ASK, "--ai-assisted", "--wait", "--timeout", "2s")
    assert result.code == 2
    assert "CR-1 timed out after 2s: not approved; it expired, so nobody reviews it now" in result.out
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    assert (body["status"], body["final_reason"]) == ("expired", "pipeline_gave_up")
    assert body["outcome"] == "expired: the pipeline that asked stopped waiting"
    await h.settle()
    assert [m for m in review_dms(h, "U0SENIOR1", "CR-1") if has_buttons(m)] == []
    assert (await h.driver.click("U0SENIOR1", ids.APPROVE, "1")).status == 200
    await h.settle()
    assert (await h.get("CR-1")).status.value == "expired"  # a late click changes nothing


async def test_only_the_pipeline_that_asked_can_stop_waiting(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")  # asked in Slack, not by a pipeline
    code, body = await h.api("POST", f"/api/v1/requests/{ref}/give-up")
    assert code == 403 and "Only the pipeline that asked" in body["message"]
    assert (await h.get(ref)).status.value == "pending"
    code, body = await h.api("POST", "/api/v1/requests/CR-99/give-up")
    assert code == 404

    await run(h, *ASK, "--ai-assisted")
    await h.settle()
    await h.driver.click(await reviewer_of(h, "CR-2"), ids.APPROVE, "2")
    await h.settle()
    code, body = await h.api("POST", "/api/v1/requests/CR-2/give-up")
    assert code == 200 and body["status"] == "approved"  # decided first: the decision stands


async def test_every_way_a_request_ends_reads_differently(h: Harness) -> None:
    def ask(n: int, **extra: Any) -> dict[str, Any]:
        body = {"requester": "U0JUNIOR1", "title": f"Change {n}", "url": f"https://git.example.com/mr/{n}"}
        return {**body, "ai_assisted": True, "destructive": False, **extra}

    for n in range(1, 7):
        extra: dict[str, Any] = {"ai_assisted": False} if n == 4 else {}
        if n == 5:
            extra["break_glass"] = "Checkout is down"
        code, _ = await h.api("POST", "/api/v1/requests", ask(n, **extra))
        assert code == 201
    await h.settle()
    await h.driver.click(await reviewer_of(h, "CR-1"), ids.APPROVE, "1")
    denier = await reviewer_of(h, "CR-2")
    await h.driver.submit(denier, ids.DENY_FORM, reason_values("No rollback plan"), private_metadata="2")
    await h.api("POST", "/api/v1/requests/CR-3/give-up")
    h.clock.advance(TTL)
    await h.api("POST", "/api/v1/requests", ask(7))  # made now: left to expire when the policy ends
    await h.tick()  # CR-6 expires: nobody decided
    await h.driver.command("U0JUNIOR1", "cancel CR-7")
    await h.api("POST", "/api/v1/requests", ask(8))
    h.clock.advance(timedelta(minutes=1))
    await h.driver.command("U0ADMIN1", "policy end")
    await h.bot.scheduler.policy()
    await h.settle()

    outcomes = {}
    for n in range(1, 9):
        code, body = await h.api("GET", f"/api/v1/requests/CR-{n}")
        outcomes[n] = (body["status"], body["final_reason"], body["outcome"])
    assert outcomes == {
        1: ("approved", "approved", f"approved by {NAMES[await reviewer_of(h, 'CR-1')]}"),
        2: ("denied", "denied", f"denied by {NAMES[denier]}: No rollback plan"),
        3: ("expired", "pipeline_gave_up", "expired: the pipeline that asked stopped waiting"),
        4: ("not_required", "not_required", outcomes[4][2]),
        5: ("approved", "break_glass", "approved by break-glass (June Junior)"),
        6: ("expired", "no_decision", "expired: no decision within 7 days"),
        7: ("cancelled", "cancelled", "cancelled by June Junior"),
        8: ("expired", "policy_ended", "expired: the sign-off policy ended"),
    }
    assert outcomes[4][2].startswith("recorded; sign-off was not required: ")
    assert len({o[2] for o in outcomes.values()}) == 8

    statuses = [await run(h, "status", f"CR-{n}") for n in range(1, 9)]
    assert [s.code for s in statuses] == [2, 1, 2, 0, 2, 2, 2, 2]  # approvals a week old have expired
    for shown in statuses:
        assert "_" not in shown.out and "U0" not in shown.out, shown.out
    assert "CR-3 expired: the pipeline that asked stopped waiting; it was not approved" in statuses[2].out
    assert "CR-8 expired: the sign-off policy ended; it was not approved" in statuses[7].out

    report = await h.report()
    assert "Expired: 3 (1 with no decision in time, 1 given up by their pipeline, 1 ended with the policy)" in report
    assert "Cancelled: 1" in report

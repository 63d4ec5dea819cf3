"""Answers come before work that grows with the data, and when signoff cannot answer in time it
says it is busy and does nothing: `/signoff report` and `/signoff policy end` are answered at
once and their results follow; a request that meets a queue that will not clear in time is
answered busy, stores nothing, and succeeds when sent again."""

from __future__ import annotations

import asyncio

from bot.domain.models import Status
from bot.slack import ids
from tests.fakes.driver import form_values
from tests.harness import Harness
from tests.seed import pending_requests

BUSY = "signoff is busy right now and did not do this; nothing was saved. Try again in a few seconds."


async def test_the_report_is_answered_at_once_and_follows_in_the_conversation(h: Harness) -> None:
    await h.ask("U0JUNIOR1")
    gate = h.slack.gates["response_url"] = asyncio.Event()  # Slack holds the report's delivery
    answer = (await h.driver.command("U0SENIOR1", "report")).json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Putting the report for the policy period together")
    assert h.slack.ephemerals == []
    gate.set()
    await h.settle()
    [report] = h.slack.ephemerals
    assert report.text.startswith("Sign-off report: 1 requests")
    assert h.slack.response_owners[report.url_id] == "U0SENIOR1"


async def test_ending_the_policy_is_answered_before_its_requests_expire(h: Harness) -> None:
    url = h.bot.settings.database
    await pending_requests(url, 1500, h.clock.now(), ["U0JUNIOR1", "U0JUNIOR2"], ["U0SENIOR1", "U0SENIOR2"])
    answer = (await h.driver.command("U0ADMIN1", "policy end")).json()
    expired_then = (await h.fetchone("SELECT COUNT(*) FROM requests WHERE status = 'expired'"))[0]
    assert answer["text"].startswith("The policy has ended. Its 1500 pending requests are being expired now")
    assert expired_then < 1500  # the answer did not wait for the expiry
    await h.bot.scheduler.policy()  # the sweep the answer started (in a live bot, at once)
    assert (await h.fetchone("SELECT COUNT(*) FROM requests WHERE status = 'expired'"))[0] == 1500
    assert await h.audit_actions("policy_ended") == 1
    ended = await h.fetchall("SELECT data FROM outbox WHERE kind = 'policy_notice' AND data LIKE ?", ('%"ended"%',))
    assert len(ended) == 1 and '"expired": 1500' in ended[0][0]


async def test_a_request_that_cannot_be_answered_in_time_is_busy_stores_nothing_and_works_later(
    h: Harness,
) -> None:
    values = form_values(title="Rotate the signing keys")
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_routing_lock() -> None:  # a long transaction that every create must wait for
        async with h.bot.store.write() as tx:
            await tx.requests.lock_all()
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_routing_lock())
    await held.wait()
    try:
        reply = (await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, values, view_id="V0BUSY")).json()
        assert reply == {"response_action": "errors", "errors": {"title": BUSY}}
        status, body = await h.api(
            "POST",
            "/api/v1/requests",
            {"requester": "U0JUNIOR1", "title": "t", "url": "https://e.example/1", "ai_assisted": True},
            headers={"Idempotency-Key": "busy-1"},
        )
        assert (status, body["code"], body["message"]) == (503, "busy", BUSY)
        command = (await h.driver.command("U0JUNIOR1", "away")).json()  # not a senior: refused, but only later
        assert command["text"] == BUSY
    finally:
        release.set()
        await holder
    assert (await h.fetchone("SELECT COUNT(*) FROM requests"))[0] == 0
    assert await h.audit_actions("requested") == 0
    await asyncio.sleep(1.0)  # the queue has cleared; admission sees it within half a second
    reply = (await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, values, view_id="V0BUSY")).json()
    assert reply["response_action"] == "update"
    status, body = await h.api(
        "POST",
        "/api/v1/requests",
        {"requester": "U0JUNIOR1", "title": "t", "url": "https://e.example/1", "ai_assisted": True},
        headers={"Idempotency-Key": "busy-1"},
    )
    assert status == 201 and body["status"] == Status.PENDING.value
    assert (await h.fetchone("SELECT COUNT(*) FROM requests"))[0] == 2


async def test_a_pipeline_answer_never_waits_for_slack_to_name_people(h: Harness) -> None:
    await h.settle()  # the roster's names, asked at start, are kept
    gate = h.slack.gates["users.info"] = asyncio.Event()  # Slack stops answering users.info
    h.slack.users.add("U0OUTSIDE")  # a colleague from outside the roster who wrote part of it
    h.slack.names["U0OUTSIDE"] = "Otto Outside"
    body = {"requester": "U0JUNIOR1", "title": "x", "url": "https://e.com/1", "ai_assisted": True, "destructive": False}
    code, answer = await asyncio.wait_for(h.api("POST", "/api/v1/requests", {**body, "authors": ["U0OUTSIDE"]}), 10)
    assert code == 201
    assert answer["names"] == {"U0JUNIOR1": "June Junior", "U0SENIOR1": "Sara Senior"}  # kept ones only
    gate.set()
    await h.settle()
    _, later = await h.api("GET", "/api/v1/requests/CR-1")
    assert later["names"]["U0OUTSIDE"] == "Otto Outside"  # asked after the answer, for the next one

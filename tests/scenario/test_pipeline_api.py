"""Pipelines ask over HTTP and get the same policy, routing, DMs and audit trail as /signoff.
Every error is JSON a person can act on, and none of them stores a request."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.domain.models import Status
from bot.sandbox.slack_standin import Failure
from bot.slack import ids
from tests.harness import DEPLOY_TOKEN, Harness

BODY: dict[str, Any] = {
    "requester": "U0JUNIOR1",
    "title": "Deploy payments 1.4.2",
    "url": "https://github.com/acme/payments/pull/77",
    "ai_assisted": True,
    "destructive": False,
    "ai_tool": "Claude Code",
    "service": "payments",
    "commit": "0123456789abcdef0123456789abcdef01234567",
}


async def stored(h: Harness) -> tuple[int, int]:
    requests = await h.fetchone("SELECT COUNT(*) FROM requests")
    outbox = await h.fetchone("SELECT COUNT(*) FROM outbox WHERE request_id IS NOT NULL")
    assert requests is not None and outbox is not None
    return int(requests[0]), int(outbox[0])


async def test_create_routes_and_notifies_like_slash_signoff(h: Harness) -> None:
    status, body = await h.api("POST", "/api/v1/requests", BODY)
    assert status == 201
    assert body["id"] == "CR-1"
    assert body["status"] == "pending" and body["sign_off_required"] is True
    assert body["reviewer"] == "U0SENIOR1"
    assert body["pipeline"] == "ci" and body["source"] == "api"
    await h.settle()
    assert h.review_dm("U0SENIOR1", "CR-1")
    assert any("CR-1 is waiting for <@U0SENIOR1>'s sign-off" in m.text for m in h.slack.dms("U0JUNIOR1"))
    rows = await h.fetchall("SELECT details FROM audit WHERE action = 'requested'")
    assert '"pipeline":"ci"' in rows[0]["details"]


async def test_requester_by_email_and_authors_never_review(h: Harness) -> None:
    h.slack.add_email("junior@example.com", "U0JUNIOR1")
    h.slack.add_email("carol@example.com", "U0SENIOR1")
    body = {**BODY, "requester": "junior@example.com", "authors": ["carol@example.com", "bot@ci.example.com"]}
    status, created = await h.api("POST", "/api/v1/requests", body)
    assert status == 201
    assert created["requester"] == "U0JUNIOR1"
    assert created["authors"] == ["U0SENIOR1", "bot@ci.example.com"]
    assert created["reviewer"] not in (None, "U0SENIOR1")
    await h.settle()
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    assert (await h.get("CR-1")).status is Status.PENDING


async def test_an_unknown_requester_email_fails_closed(h: Harness) -> None:
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "requester": "ghost@example.com"})
    assert status == 422
    assert "ghost@example.com" in body["fields"]["requester"]
    h.slack.fail("users.lookupByEmail", *[Failure(status=503)] * 5)
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "requester": "who@example.com"})
    assert status == 503 and "try again" in body["message"]
    assert await stored(h) == (0, 0)


async def test_not_required_is_still_recorded(h: Harness) -> None:
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "ai_assisted": False})
    assert status == 201
    assert body["status"] == "not_required" and body["sign_off_required"] is False
    assert body["reviewer"] is None


async def test_each_bad_body_gets_its_own_status_and_writes_nothing(h: Harness) -> None:
    cases: list[tuple[bytes, int, str]] = [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b'{"x": "' + b"a" * 530_000 + b'"}', 413, "larger than 524288 bytes"),
    ]
    for raw, expected, words in cases:
        status, body = await h.api("POST", "/api/v1/requests", raw=raw)
        assert status == expected, raw[:20]
        assert words in body["message"]
    status, body = await h.api(
        "POST", "/api/v1/requests", {"title": "", "url": "ftp://x", "ai_asisted": True, "requester": 5}
    )
    assert status == 422
    assert set(body["fields"]) == {"title", "url", "ai_assisted", "ai_asisted", "requester"}
    assert body["fields"]["ai_asisted"] == "is not a field of a request"
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "description": "d" * 10_000})
    assert status == 422 and "at most 3000" in body["fields"]["description"]
    assert await stored(h) == (0, 0)


async def test_unknown_ids_and_wrong_methods(h: Harness) -> None:
    status, body = await h.api("GET", "/api/v1/requests/CR-404")
    assert status == 404 and body["message"] == "There is no sign-off request CR-404. Check the id, e.g. CR-42."
    status, body = await h.api("GET", "/api/v1/requests/banana")
    assert status == 422 and "id" in body["fields"]
    status, body = await h.api("PUT", "/api/v1/requests", BODY)
    assert status == 405 and body["message"] == "PUT is not allowed on /api/v1/requests."
    status, body = await h.api("DELETE", "/api/v1/requests/CR-1")
    assert status == 405
    status, body = await h.api("GET", "/api/v1/nothing")
    assert status == 404 and body["error"] == "not_found"
    assert await stored(h) == (0, 0)


async def test_idempotency_key_repeats_and_conflicts(h: Harness) -> None:
    key = {"Idempotency-Key": "deploy-8842"}
    first = await h.api("POST", "/api/v1/requests", BODY, headers=key)
    again = await h.api("POST", "/api/v1/requests", BODY, headers=key)
    assert first[0] == 201 and again[0] == 200
    assert first[1] == again[1]
    status, body = await h.api("POST", "/api/v1/requests", {**BODY, "title": "Something else"}, headers=key)
    assert status == 422 and "different body" in body["message"]
    other_pipeline = await h.api("POST", "/api/v1/requests", BODY, headers=key, token=DEPLOY_TOKEN)
    assert other_pipeline[0] == 201 and other_pipeline[1]["id"] == "CR-2"  # keys are per pipeline
    assert (await stored(h))[0] == 2


async def test_long_poll_wakes_on_the_decision(h: Harness) -> None:
    status, _ = await h.api("POST", "/api/v1/requests", BODY)
    assert status == 201
    await h.settle()
    status, body = await h.api("GET", "/api/v1/requests/CR-1?wait=0.2")
    assert status == 200 and body["status"] == "pending"  # times out, still pending
    waiter = asyncio.create_task(h.api("GET", "/api/v1/requests/CR-1?wait=60"))
    await asyncio.sleep(0)
    assert not waiter.done()
    await h.driver.click("U0SENIOR1", ids.DENY, "1")
    await h.settle()
    view = h.slack.opened_views[0]
    await h.driver.submit(
        "U0SENIOR1", ids.DENY_FORM, _reason("Needs a canary"), private_metadata=view["private_metadata"]
    )
    status, body = await asyncio.wait_for(waiter, timeout=30)
    assert status == 200
    assert body["status"] == "denied"
    assert body["decided_by"] == "U0SENIOR1" and body["reason"] == "Needs a canary"
    assert body["decided_at"] is not None
    for bad in ("61", "-1", "soon"):
        status, reply = await h.api("GET", f"/api/v1/requests/CR-1?wait={bad}")
        assert status == 422 and "wait" in reply["fields"]


def _reason(text: str) -> dict[str, Any]:
    return {"reason": {"value": {"type": "plain_text_input", "value": text}}}


async def test_long_polls_beyond_the_limit_are_answered_at_once(h: Harness) -> None:
    """However many pipelines wait, the process holds at most max_waiters sockets; the next is answered now."""
    h.bot.api.max_waiters = 1
    status, created = await h.api("POST", "/api/v1/requests", BODY)
    assert status == 201 and created["status"] == "pending"
    first = asyncio.create_task(h.api("GET", f"/api/v1/requests/{created['id']}?wait=30"))
    await asyncio.sleep(0.3)
    assert not first.done()
    status, second = await asyncio.wait_for(h.api("GET", f"/api/v1/requests/{created['id']}?wait=30"), 10)
    assert status == 200 and second["status"] == "pending"
    assert not first.done()  # still holding: only the one beyond the limit was answered at once
    await h.driver.click(created["reviewer"], ids.APPROVE, created["id"][3:])
    status, answer = await asyncio.wait_for(first, 10)
    assert answer["status"] == "approved"

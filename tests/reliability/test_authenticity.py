"""Only correctly signed, fresh requests reach the bot. Everything else gets a 4xx with a JSON
body and writes nothing; a replayed or retried delivery does nothing twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from bot.slack import ids
from tests.fakes.driver import form_values
from tests.fakes.signing import SIGNING_SECRET, sign
from tests.harness import Harness

FORM = "application/x-www-form-urlencoded"


async def table_counts(h: Harness) -> dict[str, int]:
    counts = {}
    for table in ("requests", "audit", "outbox", "deliveries", "decisions"):
        row = await h.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert row is not None
        counts[table] = int(row[0])
    return counts


async def test_bad_old_or_missing_signatures_get_401_and_write_nothing(h: Harness) -> None:
    payload = h.driver.view_payload("U0JUNIOR1", ids.REQUEST_FORM, form_values())
    body = urlencode({"payload": json.dumps(payload)})
    before = await table_counts(h)
    now = int(time.time())
    cases = {
        "unsigned": {},
        "wrong secret": sign(body, secret="not-the-secret"),
        "301 s old": sign(body, timestamp=now - 301),
        "from the future": sign(body, timestamp=now + 301),
        "tampered body": sign(body.replace("U0JUNIOR1", "U0JUNIOR2")),
    }
    for name, headers in cases.items():
        reply = await h.driver.post_raw(body, FORM, headers)
        assert reply.status == 401, name
        assert reply.json()["error"] == "invalid_signature", name
    assert await table_counts(h) == before
    fresh = await h.driver.post_raw(body, FORM, sign(body, timestamp=now - 299))
    assert fresh.status == 200 and fresh.json()["response_action"] == "update"


async def test_malformed_but_signed_payloads_get_400_and_write_nothing(h: Harness) -> None:
    before = await table_counts(h)
    bodies = [
        "payload=%7Bnot-json",
        urlencode({"payload": "[1, 2]"}),
        urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U0SENIOR1"}, "actions": []})}),
        urlencode({"payload": json.dumps({"type": "view_submission", "user": {}, "view": {"id": "V1"}})}),
        urlencode(
            {
                "payload": json.dumps(
                    {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "x"}}
                )
            }
        ),
        urlencode({"command": "/signoff", "text": "help"}),  # no user, no trigger
    ]
    for body in bodies:
        reply = await h.driver.post_signed(body, FORM)
        assert reply.status == 400, body
        assert reply.json()["error"] == "malformed_payload"
        assert reply.json()["message"]
    assert await table_counts(h) == before


async def test_a_button_without_a_request_id_is_explained(h: Harness) -> None:
    await h.driver.click("U0SENIOR1", ids.APPROVE, "CR-1; DROP TABLE requests")
    await h.settle()
    assert h.slack.ephemeral_texts() == ["This button does not name a request. Use `/signoff status CR-42` instead."]


async def test_an_unknown_request_id_in_a_button_is_explained(h: Harness) -> None:
    await h.driver.click("U0SENIOR1", ids.APPROVE, "4242")
    await h.settle()
    assert h.slack.ephemeral_texts() == ["There is no sign-off request CR-4242. Check the id, e.g. CR-42."]


async def test_health_endpoint(h: Harness) -> None:
    async with h.session.get(f"{h.url}/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok", "database": "ok", "mode": "http"}


API_BODY = {
    "requester": "U0JUNIOR1",
    "title": "t",
    "url": "https://e.example/pr/1",
    "ai_assisted": True,
    "destructive": False,
}


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "Missing bearer token"), ("wrong-token-0123456789abcdefghij", "not valid")],
)
async def test_missing_or_wrong_api_tokens_get_401_and_write_nothing(
    h: Harness, token: str | None, message: str
) -> None:
    before = await table_counts(h)
    for method, path, body in (("POST", "/api/v1/requests", API_BODY), ("GET", "/api/v1/requests/CR-1", None)):
        status, reply = await h.api(method, path, body, token=token)
        assert status == 401
        assert message in reply["message"]
    after = await table_counts(h)
    assert {k: after[k] - before[k] for k in after} == {
        "requests": 0,
        "audit": 1,
        "outbox": 0,
        "deliveries": 0,
        "decisions": 0,
    }  # only the refusal is recorded: the first from a source each minute, the rest counted
    refusals = await h.fetchall("SELECT reason FROM audit WHERE action = 'refused'")
    assert [r["reason"] for r in refusals] == ["bad_token"]


async def test_a_body_that_is_not_utf8_is_401_unsigned_and_400_signed(h: Harness) -> None:
    raw = b"payload=\xff\xfe"
    async with h.session.post(h.driver.url, data=raw, headers={"Content-Type": FORM}) as resp:
        assert resp.status == 401
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + str(int(time.time())).encode() + b":" + raw, hashlib.sha256)
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    async with h.session.post(h.driver.url, data=raw, headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == "The body is not UTF-8 text."

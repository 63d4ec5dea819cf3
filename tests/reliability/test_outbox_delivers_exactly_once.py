"""Decide first, notify second: a decision stands while Slack fails, and every message is
delivered exactly once when Slack recovers. Permanent errors are tried once and logged once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.models import Status
from bot.sandbox.slack_standin import Failure
from bot.slack import ids
from bot.slack.outbox_worker import PROBE_EVERY_SECONDS
from tests.harness import SUMMARY, Harness


async def outbox_states(h: Harness) -> dict[str, int]:
    rows = await h.fetchall(
        "SELECT status, COUNT(*) AS n FROM outbox"
        " WHERE kind != 'home_refresh' AND request_id IS NOT NULL GROUP BY status"  # nobody opened Home
    )
    return {r["status"]: r["n"] for r in rows}


async def test_three_429s_then_the_message_arrives_once(h: Harness) -> None:
    h.slack.fail("chat.postMessage", *[Failure(status=429, retry_after=7)] * 3)
    await h.ask("U0JUNIOR1")
    assert h.slack.dms("U0SENIOR1") == []
    for _ in range(3):
        h.clock.advance(timedelta(seconds=6))
        await h.settle()
        h.clock.advance(timedelta(seconds=1))
        await h.settle()
    assert len(h.slack.dms("U0SENIOR1")) == 1
    assert len(h.slack.dms("U0JUNIOR1")) == 1
    assert await outbox_states(h) == {"sent": 2}


async def test_ten_minutes_of_503_then_everything_once(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")  # delivered while Slack is up
    h.slack.fail_always("chat.postMessage", Failure(status=503))
    h.slack.fail_always("chat.update", Failure(status=503))
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    status, body = await h.api("GET", f"/api/v1/requests/{ref}")
    assert status == 200 and body["status"] == "approved"  # visible at once, Slack or not
    assert body["decided_by"] == "U0SENIOR1"

    calls_before = len(h.slack.calls)
    for _ in range(40):  # ten minutes in 15 s steps
        h.clock.advance(timedelta(seconds=15))
        await h.settle()
    failed = [c for c in h.slack.calls[calls_before:] if not c.ok]
    # Slack is not hammered: one probe per step at most, beside each row's own capped backoff.
    assert 5 <= len(failed) <= 40 + 4
    assert h.review_dm("U0SENIOR1", ref).updates == 0  # in order: it waits for the requester's message

    h.slack.fail_always("chat.postMessage", None)
    h.slack.fail_always("chat.update", None)
    h.clock.advance(timedelta(seconds=PROBE_EVERY_SECONDS))  # Slack is back: the next probe drains everything
    await h.settle()
    assert len([m for m in h.slack.dms("U0JUNIOR1") if "was approved" in m.text]) == 1
    assert h.review_dm("U0SENIOR1", ref).updates == 1
    assert await outbox_states(h) == {"sent": 4}


@pytest.mark.parametrize("error", ["channel_not_found", "user_not_found", "invalid_auth"])
async def test_permanent_errors_are_tried_once_and_logged_once(
    h: Harness, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    h.slack.fail("chat.postMessage", Failure(error=error))
    with caplog.at_level(logging.ERROR, logger="bot.slack.outbox_worker"):
        ref = await h.ask("U0JUNIOR1")
        for _ in range(5):
            h.clock.advance(timedelta(minutes=10))
            await h.settle()
    posts = [c for c in h.slack.calls_to("chat.postMessage") if c.args.get("channel") != SUMMARY]
    assert len(posts) == 2  # the failed one, and the requester's
    assert await outbox_states(h) == {"failed": 1, "sent": 1}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and error in errors[0].getMessage()
    assert (await h.get(ref)).status is Status.PENDING  # the request itself is untouched


async def test_a_lost_response_does_not_post_twice(h: Harness) -> None:
    h.slack.fail("chat.postMessage", Failure(drop_response=True))
    await h.ask("U0JUNIOR1")
    h.clock.advance(timedelta(minutes=1))
    await h.settle()
    assert len(h.slack.dms("U0SENIOR1")) == 1
    assert len(h.slack.dms("U0JUNIOR1")) == 1
    assert await outbox_states(h) == {"sent": 2}
    ref = "CR-1"
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    assert h.review_dm("U0SENIOR1", ref).updates == 1  # the found message was remembered for updates

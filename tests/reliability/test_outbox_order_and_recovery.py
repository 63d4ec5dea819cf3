"""Slack trouble: one request's messages go out in the order they were queued, a 429 waits its
Retry-After without counting as a failure, once Slack answers again the backlog drains at once,
in order, and a second process never takes the claims of a live one."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.sandbox.slack_standin import Failure, SlackStandIn
from bot.slack import ids
from bot.slack.outbox_worker import PROBE_EVERY_SECONDS
from tests.fakes.driver import SlackDriver, form_values
from tests.harness import Harness
from tests.process import BotProcess


def delivered_order(h: Harness, ref: str) -> list[str]:
    """Who got a message about ``ref``, in the order Slack accepted them."""
    posts = [c for c in h.slack.calls_to("chat.postMessage", ok=True) if ref in str(c.args.get("text", ""))]
    return [str(c.args["channel"]) for c in posts]


async def test_the_requester_hears_waiting_only_after_the_reviewer_has_the_dm(h: Harness) -> None:
    h.slack.fail("chat.postMessage", Failure(status=500))  # the reviewer's DM fails once
    await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
    await h.settle()
    h.clock.advance(timedelta(seconds=PROBE_EVERY_SECONDS))
    await h.settle()
    # Never "waiting for @reviewer" while the reviewer has nothing.
    assert delivered_order(h, "CR-1") == ["U0SENIOR1", "U0JUNIOR1"]


async def test_429s_do_not_count_as_failures(h: Harness) -> None:
    h.slack.fail("chat.postMessage", *[Failure(status=429, retry_after=1)] * 8, Failure(status=500))
    await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
    await h.settle()
    for _ in range(8):
        h.clock.advance(timedelta(seconds=1))
        await h.settle()
    row = await h.fetchone("SELECT attempts FROM outbox WHERE kind = 'review_dm'")
    assert row is not None and row["attempts"] == 1  # the one 500; eight 429s did not grow the backoff
    h.clock.advance(timedelta(seconds=2))  # the first backoff step after one failure
    await h.settle()
    assert delivered_order(h, "CR-1") == ["U0SENIOR1", "U0JUNIOR1"]


async def test_after_an_outage_the_backlog_drains_at_once_in_order(h: Harness) -> None:
    mixed = [Failure(status=429, retry_after=3), Failure(status=500), Failure(status=503)]
    h.slack.fail_always("chat.postMessage", mixed[1])
    refs = []
    for i in range(3):
        reply = await h.driver.submit(f"U0JUNIOR{1 + i % 2}", ids.REQUEST_FORM, form_values(title=f"Change {i}"))
        assert reply.json()["response_action"] == "update"
        refs.append(f"CR-{i + 1}")
    for step in range(20):  # 40 seconds of 429s and 5xx
        h.slack.fail_always("chat.postMessage", mixed[step % 3])
        h.clock.advance(timedelta(seconds=2))
        await h.settle()
    h.slack.fail_always("chat.postMessage", None)
    h.clock.advance(timedelta(seconds=PROBE_EVERY_SECONDS))
    await h.settle()
    for i, ref in enumerate(refs):
        requester = f"U0JUNIOR{1 + i % 2}"
        order = delivered_order(h, ref)
        assert len(order) == 2 and order[1] == requester, (ref, order)
    pending = await h.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND kind != 'home_refresh'")
    assert pending is not None and pending[0] == 0


async def test_a_second_process_never_takes_a_live_processs_claims(tmp_path: Path, slack: SlackStandIn) -> None:
    slack.method_delays["chat.postMessage"] = 8.0  # a slow post: A's delivery is in flight while B starts
    a = BotProcess(tmp_path, slack)
    await a.start()
    b = BotProcess(tmp_path, slack)
    b.log = tmp_path / "bot-b.log"
    db = tmp_path / "signoff.db"
    try:
        async with aiohttp.ClientSession() as session:
            await SlackDriver(a.url, slack, session).submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
            for _ in range(400):  # until A holds claims
                conn = sqlite3.connect(db)
                held = conn.execute("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL").fetchone()[0]
                conn.close()
                if held:
                    break
                await asyncio.sleep(0.05)
            assert held
            await b.start()  # while A is still delivering
            slack.method_delays.clear()  # A's post in flight keeps its delay; later ones need none
            await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) >= 1 and len(slack.dms("U0JUNIOR1")) >= 1, 60)
            # A row B took would be claimed until its (slow) post came back: wait until nothing is
            # claimed and nothing is due, then give a post in flight its answer's time.
            for _ in range(600):
                conn = sqlite3.connect(db)
                busy = conn.execute(
                    "SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL"
                    " OR (status = 'pending' AND next_attempt_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
                ).fetchone()[0]
                conn.close()
                if not busy:
                    break
                await asyncio.sleep(0.1)
            assert not busy
            await asyncio.sleep(1)
    finally:
        slack.method_delays.clear()
        a.stop()
        b.stop()
    assert len(slack.dms("U0SENIOR1")) == 1
    assert len(slack.dms("U0JUNIOR1")) == 1

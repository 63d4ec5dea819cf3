"""The summary channel gets the pending changes: the true count, oldest first, overdue ones
flagged, and the days left. It posts on SUMMARY_CRON in TIMEZONE (crontab weekdays, Sunday = 0),
on demand, and once after downtime; any number of requests fits Slack's limits."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import MovableClock
from bot.sandbox import block_rules
from tests.harness import SUMMARY, Harness, running

BERLIN = ZoneInfo("Europe/Berlin")


def summaries(h: Harness) -> list[object]:
    return [m for m in h.slack.posts_in("C0SIGNOFF") if m.text.startswith("Pending sign-offs")]


async def test_summary_on_demand_lists_oldest_first_and_flags_overdue(h: Harness) -> None:
    old = await h.ask("U0JUNIOR1", title="Old change")
    h.clock.advance(timedelta(hours=5))
    new = await h.ask("U0JUNIOR2", title="New change")
    reply = (await h.driver.command("U0MID1", "summary")).json()
    assert reply["text"] == "Posting the pending summary in <#C0SIGNOFF>."
    await h.settle()
    [post] = summaries(h)
    text = "\n".join(b["text"]["text"] for b in post.blocks if b["type"] == "section")
    assert text.startswith("*Pending sign-offs: 2*")
    assert "days left" in text
    assert text.index(old) < text.index(new)
    old_line = next(line for line in text.splitlines() if old in line)
    new_line = next(line for line in text.splitlines() if new in line)
    assert "overdue" in old_line and "waiting 5h00m" in old_line and "<@U0SENIOR1>" in old_line
    assert "overdue" not in new_line


async def test_five_hundred_pending_fit_and_show_the_true_count(h: Harness) -> None:
    body = {
        "title": "x" * 150,
        "url": "https://e.example/" + "p" * 500,
        "ai_assisted": True,
        "destructive": False,
        "requester": "U0JUNIOR1",
    }
    results = await asyncio.gather(*(h.api("POST", "/api/v1/requests", body) for _ in range(500)))
    assert {s for s, _ in results} == {201}
    await h.driver.command("U0MID1", "summary")
    await h.settle()
    [post] = summaries(h)
    assert block_rules.check_message({"text": post.text, "blocks": post.blocks}) is None
    assert post.text == "Pending sign-offs: 500"
    shown = sum(b["text"]["text"].count("• *CR-") for b in post.blocks if b["type"] == "section")
    assert 0 < shown < 500
    assert post.blocks[-1]["elements"][0]["text"].startswith(f"…and {500 - shown} more")


async def test_scheduled_on_weekday_mornings_in_the_configured_zone(tmp_path: Path) -> None:
    monday_0859 = datetime(2026, 11, 30, 8, 59, tzinfo=BERLIN)  # a Monday
    clock = MovableClock(monday_0859)
    async with running(tmp_path, clock=clock, TIMEZONE="Europe/Berlin", SUMMARY_CRON="0 9 * * 1-5") as h:
        await h.tick()
        assert summaries(h) == []
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN))
        await h.tick()
        await h.tick()
        assert len(summaries(h)) == 1
        clock.set(datetime(2026, 12, 5, 9, 30, tzinfo=BERLIN))  # Saturday: Tue..Fri were missed while "down"
        await h.tick()
        assert len(summaries(h)) == 2  # the missed weekday slots post once, not four times
        clock.set(datetime(2026, 12, 6, 9, 30, tzinfo=BERLIN))  # Sunday
        await h.tick()
        assert len(summaries(h)) == 2
        clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN))  # Monday again
        await h.tick()
        assert len(summaries(h)) == 3


async def test_a_fresh_install_first_says_what_the_channel_is_for_once(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        await h.settle()
        first = h.slack.posts_in(SUMMARY)
        assert len(first) == 1 and first[0].text == "signoff is here: what this channel is for"
        assert "This channel gets the summary of changes waiting for a senior" in first[0].blocks[0]["text"]["text"]
    async with running(tmp_path) as again:  # a restart, on the same database
        await again.settle()
        assert again.slack.posts_in(SUMMARY) == []


async def test_in_one_sweep_the_channel_reads_in_the_order_things_happened(tmp_path: Path) -> None:
    """An escalation and the morning summary in the same sweep: the channel says the request moved
    before the summary lists it with its new reviewer, not the other way round."""
    clock = MovableClock(datetime(2026, 11, 29, 8, 0, tzinfo=BERLIN))  # a Sunday
    async with running(tmp_path, clock=clock, TIMEZONE="Europe/Berlin", SUMMARY_CRON="0 9 * * 1-5") as h:
        ref = await h.ask("U0JUNIOR1")
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN))  # Monday 09:00: overdue, and summary time
        await h.tick()
        posts = [p.text for p in h.slack.posts_in("C0SIGNOFF")]
        moved = [i for i, t in enumerate(posts) if t == f"{ref} reassigned to <@U0SENIOR2>"]
        listed = [i for i, t in enumerate(posts) if t.startswith("Pending sign-offs")]
        assert len(moved) == 1 and len(listed) == 1, posts
        assert moved[0] < listed[0], posts

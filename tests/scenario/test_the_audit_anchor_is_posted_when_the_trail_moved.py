"""Once a day the audit trail's last hash goes to the summary channel, an independent copy a
later edit of the database cannot change, but only on a day the trail moved: a weekend or a
quiet day adds no post (over a week, a channel of hashes hides the summaries). The post says
in words what it anchors."""

from __future__ import annotations

from datetime import timedelta

from bot.slack import ids
from tests.harness import Harness


def anchors(h: Harness) -> list[str]:
    return [text for text in h.channel_posts() if "Audit anchor" in text]


async def next_day(h: Harness) -> None:
    h.clock.advance(timedelta(days=1))
    await h.bot.scheduler.tick()
    await h.settle()


async def test_an_anchor_only_on_a_day_the_trail_moved(h: Harness) -> None:
    ref = await h.ask()
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref.removeprefix("CR-"))
    await h.settle()
    await next_day(h)
    assert len(anchors(h)) == 1
    first = anchors(h)[0]
    assert "the audit trail ends at row" in first and "new since the last anchor" in first

    await next_day(h)  # nothing happened
    await next_day(h)
    assert len(anchors(h)) == 1

    await h.ask(title="Another change")
    await next_day(h)
    assert len(anchors(h)) == 2

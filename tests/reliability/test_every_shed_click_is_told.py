"""A click signoff sheds because it is busy is acknowledged at once (Slack allows nothing else)
and the person is told through the click's response_url: every click, however many arrive at
once, never only the first few. The tells queue behind each other, a few at a time, so telling
a flood is not itself the work that does not fit."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.sandbox.slack_standin import SlackStandIn
from bot.slack.busy import TEXT, Responder
from bot.tasks import Background

CLICKS = 60


async def test_sixty_shed_clicks_at_once_are_each_told(slack: SlackStandIn) -> None:
    background = Background()
    async with aiohttp.ClientSession() as session:
        responder = Responder(background, lambda: session)
        urls = [slack.response_url(f"U0CLICK{n:02d}") for n in range(CLICKS)]
        for _, url in urls:
            responder.tell_busy(url)
        await asyncio.wait_for(background.idle(), 30)
    told = {e.url_id for e in slack.ephemerals if e.text == TEXT}
    assert told == {url_id for url_id, _ in urls}
    assert len(slack.ephemerals) == CLICKS  # once each


async def test_tells_go_a_few_at_a_time(slack: SlackStandIn) -> None:
    gate = slack.gates["response_url"] = asyncio.Event()  # Slack is slow to take them
    background = Background()
    async with aiohttp.ClientSession() as session:
        responder = Responder(background, lambda: session)
        for n in range(CLICKS):
            responder.tell_busy(slack.response_url(f"U0CLICK{n:02d}")[1])
        await asyncio.sleep(0.2)
        in_flight = responder.posting
        gate.set()
        await asyncio.wait_for(background.idle(), 30)
    assert 1 <= in_flight <= 4
    assert len(slack.ephemerals) == CLICKS

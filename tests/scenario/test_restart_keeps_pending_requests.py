"""A request pending when the bot dies can still be decided after a restart, and messages
that were not yet delivered go out exactly once."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.sandbox.slack_standin import Failure, SlackStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver, form_values
from tests.process import BotProcess


async def test_kill_restart_and_decide(tmp_path: Path, slack: SlackStandIn) -> None:
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    async with aiohttp.ClientSession() as session:
        driver = SlackDriver(bot.url, slack, session)
        reply = await driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values(title="Survives a crash"))
        assert reply.status == 200
        await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) == 1)
        bot.kill()

        await bot.start()
        assert (await driver.click("U0SENIOR1", ids.APPROVE, "1")).status == 200
        await slack.wait_for(lambda: any("was approved" in m.text for m in slack.dms("U0JUNIOR1")))
        await slack.wait_for(lambda: slack.dms("U0SENIOR1")[0].updates == 1)
        assert bot.stop() == 0
    assert [m.text.split(" (")[0] for m in slack.dms("U0JUNIOR1")] == [
        "CR-1 is waiting for <@U0SENIOR1>'s sign-off.",
        ":white_check_mark: CR-1 was approved by <@U0SENIOR1>. You may ship it.",
    ]


async def test_messages_queued_while_slack_was_down_survive_a_crash(tmp_path: Path, slack: SlackStandIn) -> None:
    slack.fail_always("chat.postMessage", Failure(status=503))
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    async with aiohttp.ClientSession() as session:
        driver = SlackDriver(bot.url, slack, session)
        reply = await driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
        assert reply.json()["response_action"] == "update"  # the request stands while Slack is down
        await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 1)
        bot.kill()
        slack.fail_always("chat.postMessage", None)
        await bot.start()
        await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) == 1 and len(slack.dms("U0JUNIOR1")) == 1)
        assert bot.stop() == 0
    assert len(slack.dms("U0SENIOR1")) == 1
    assert len(slack.dms("U0JUNIOR1")) == 1

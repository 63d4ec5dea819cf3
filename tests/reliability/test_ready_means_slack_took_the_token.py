"""`signoff serve` starts when Slack cannot be reached to check SLACK_BOT_TOKEN (messages wait
in the outbox), but it is not ready until Slack has taken the token once: /readyz is 503 with
the reason, the log says so once, and it checks again with backoff until Slack answers. A token
Slack refuses at start still stops the start with one line and exit code 3."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.sandbox.slack_standin import Failure, SlackStandIn
from tests.process import BotProcess


async def readyz(session: aiohttp.ClientSession, bot: BotProcess) -> tuple[int, dict[str, object]]:
    async with session.get(f"{bot.url}/readyz") as resp:
        return resp.status, await resp.json()


async def test_not_ready_until_slack_has_taken_the_token(tmp_path, slack: SlackStandIn) -> None:  # type: ignore[no-untyped-def]
    slack.fail_always("auth.test", Failure(status=503))
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    try:
        async with aiohttp.ClientSession() as session:
            status, body = await readyz(session, bot)
            assert status == 503 and body["status"] == "not ready"
            assert "could not be reached to check SLACK_BOT_TOKEN" in str(body["slack"])
            await asyncio.sleep(2.5)
            assert (await readyz(session, bot))[0] == 503  # still not: Slack still does not answer
            slack.fail_always("auth.test", None)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while (found := await readyz(session, bot))[0] != 200:
                assert loop.time() < deadline, found
                await asyncio.sleep(0.2)
            assert found[1]["slack"] == "ok"
    finally:
        assert bot.stop() == 0
    log = bot.log.read_text()
    assert log.count("could not be reached to check SLACK_BOT_TOKEN") == 1, log  # said once, not per try
    assert "Slack took SLACK_BOT_TOKEN" in log


async def test_a_roster_copied_unchanged_from_the_example_is_named_at_start(tmp_path, slack: SlackStandIn) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    example = Path(__file__).parents[2] / "roster.example.yml"
    (tmp_path / "roster.yml").write_text(example.read_text())
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    assert bot.stop() == 0
    log = bot.log.read_text()
    assert "still lists the example people of roster.example.yml (U0ADMIN1, U0JUNIOR1, U0MID1" in log, log

"""A whole scenario at DEBUG level leaves no token or secret in the logs, and no repr shows them."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.config import load_settings
from bot.http.auth import ApiTokens
from bot.sandbox.slack_standin import APP_TOKEN, BOT_TOKEN, SlackStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver, form_values, reason_values
from tests.fakes.signing import SIGNING_SECRET
from tests.harness import CI_TOKEN, DEPLOY_TOKEN, settings_env
from tests.process import BotProcess

SECRETS = [BOT_TOKEN, SIGNING_SECRET, CI_TOKEN, DEPLOY_TOKEN, APP_TOKEN]


async def test_debug_logs_of_a_full_scenario_hold_no_secret(tmp_path: Path, slack: SlackStandIn) -> None:
    bot = BotProcess(tmp_path, slack, LOG_LEVEL="DEBUG")
    await bot.start()
    async with aiohttp.ClientSession() as session:
        driver = SlackDriver(bot.url, slack, session)
        await driver.command("U0JUNIOR1", "")
        await driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
        await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) == 1)
        await driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("no"), private_metadata="1")
        headers = {"Authorization": f"Bearer {CI_TOKEN}"}
        body = {
            "requester": "U0JUNIOR2",
            "title": "t",
            "url": "https://e.example/1",
            "ai_assisted": True,
            "destructive": False,
        }
        async with session.post(f"{bot.url}/api/v1/requests", json=body, headers=headers) as resp:
            assert resp.status == 201
        async with session.get(
            f"{bot.url}/api/v1/requests/CR-1", headers={"Authorization": "Bearer " + CI_TOKEN[:-1]}
        ) as resp:
            assert resp.status == 401
        await slack.wait_for(lambda: any("was denied" in m.text for m in slack.dms("U0JUNIOR1")))
    assert bot.stop() == 0
    log = bot.log.read_text()
    assert "DEBUG" in log and "chat.postMessage" in log  # the log really is at DEBUG
    for secret in SECRETS:
        assert secret not in log
        assert secret[:-1] not in log  # nor a near-miss copy of it


def test_reprs_hide_secrets(tmp_path: Path) -> None:
    slack = SlackStandIn()
    env = settings_env(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN)
    settings = load_settings(_env_file=None, **env)
    shown = repr(settings) + str(settings) + str(settings.model_dump()) + repr(ApiTokens(settings.api_token_map))
    for secret in SECRETS:
        assert secret not in shown

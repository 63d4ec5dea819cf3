"""While Slack fails, the outbox's log says what really happens, once: the messages wait, and
one is tried every few seconds until Slack answers. It never claims a delay it does not wait
("will retry in 300s", printed every 5 s), nor repeats itself per message or per try. When
Slack answers again, it says so once. A rate limit's wait is the one Slack asked for."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.sandbox.slack_standin import Failure
from tests.harness import Harness

OUTBOX_LOGGER = "bot.slack.outbox_worker"


def said(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == OUTBOX_LOGGER and r.levelno >= level]


async def test_an_outage_is_told_once_and_truly(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=OUTBOX_LOGGER)
    h.slack.fail_always("chat.postMessage", Failure(status=500))
    for n in range(3):
        await h.ask(title=f"Change {n}")  # three requests, each with messages waiting
    for _ in range(12):  # a minute of Slack failing, the outbox trying as it does
        h.clock.advance(timedelta(seconds=5))
        await h.bot.outbox.drain()
    during = said(caplog, logging.WARNING)
    assert not any("will retry in" in line for line in during), during
    assert len(during) == 1, during
    assert "Slack is not answering" in during[0] and "one is tried every 5 s" in during[0]
    caplog.clear()
    h.slack.fail_always("chat.postMessage", None)
    h.clock.advance(timedelta(seconds=5))
    await h.settle()
    after = said(caplog)
    assert [line for line in after if "Slack answers again" in line] == [after[0]], after
    assert len(after) == 1, after


async def test_a_rate_limit_says_the_wait_slack_asked_for(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=OUTBOX_LOGGER)
    h.slack.fail("chat.postMessage", Failure(status=429, retry_after=7))
    await h.ask()
    await h.bot.outbox.drain()
    assert any("rate limited" in line and "7 s" in line for line in said(caplog, logging.WARNING)), said(caplog)

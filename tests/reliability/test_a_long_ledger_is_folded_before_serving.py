"""Every routing reads the reviewer-load ledger not yet folded (docs/design/reviewer-load.md), so
a long one (rows imported in bulk, or written while the bot was stopped) is folded before the
bot serves, not paid for by every request: once a restarted bot answers, the ledger is empty and
the load it folded routes the next request, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.sandbox.slack_standin import SlackStandIn
from tests import db
from tests.harness import CI_TOKEN
from tests.process import BotProcess
from tests.seed import pending_requests

BULK = 3000


async def test_a_restart_folds_the_ledger_before_it_answers(
    tmp_path: Path, slack: SlackStandIn, database_url: str
) -> None:
    now = datetime.now(UTC)
    settings = {"DATABASE_URL": database_url, "POLICY_START": (now - timedelta(days=1)).isoformat()}
    first = BotProcess(tmp_path, slack, **settings)
    await first.start()  # makes the schema
    assert first.stop() == 0
    await pending_requests(database_url, BULK, now, ["U0JUNIOR1", "U0JUNIOR2"], ["U0SENIOR1"])
    assert (await db.fetchone(database_url, "SELECT COUNT(*) FROM reviewer_load"))[0] >= BULK

    second = BotProcess(tmp_path, slack, **settings)
    second.log = tmp_path / "bot-2.log"
    await second.start()
    try:
        assert (await db.fetchone(database_url, "SELECT COUNT(*) FROM reviewer_load"))[0] == 0
        row = await db.fetchone(database_url, "SELECT open FROM reviewer_stats WHERE reviewer = 'U0SENIOR1'")
        assert row[0] == BULK
        async with aiohttp.ClientSession() as session:
            body = {"requester": "U0JUNIOR1", "title": "x", "url": "https://e.com/1", "ai_assisted": True}
            async with session.post(
                f"{second.url}/api/v1/requests",
                json={**body, "destructive": False},
                headers={"Authorization": f"Bearer {CI_TOKEN}"},
            ) as resp:
                assert resp.status == 201
                answer = await resp.json()
        assert answer["reviewer"] == "U0SENIOR2"  # the one with none open, not the one with 3,000
    finally:
        assert second.stop() == 0

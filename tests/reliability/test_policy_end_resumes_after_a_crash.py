"""The policy's end expires a batch of requests per transaction and is announced once, after
the last: killed with SIGKILL in the middle of expiring 1,500 requests, the next start goes on
where it stopped, every request is expired once, and the end is announced once, with the full
count, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.sandbox.slack_standin import SlackStandIn
from tests import db
from tests.process import BotProcess
from tests.seed import pending_requests

PENDING = 1500


async def progress(url: str) -> tuple[str | None, str | None]:
    rows = await db.fetchall(
        url, "SELECT key, value FROM meta WHERE key IN ('policy_end_progress', 'policy_end_announced')"
    )
    facts = {r[0]: r[1] for r in rows}
    return facts.get("policy_end_progress"), facts.get("policy_end_announced")


async def test_a_kill_in_the_middle_of_the_end_resumes_and_announces_once(
    tmp_path: Path, slack: SlackStandIn, database_url: str
) -> None:
    now = datetime.now(UTC)
    first = BotProcess(tmp_path, slack, DATABASE_URL=database_url, POLICY_START=(now - timedelta(days=1)).isoformat())
    await first.start()  # makes the schema; the policy runs
    assert first.stop() == 0
    await pending_requests(database_url, PENDING, now, ["U0JUNIOR1", "U0JUNIOR2"], ["U0SENIOR1", "U0SENIOR2"])
    ended = {"POLICY_START": (now - timedelta(days=3)).isoformat(), "POLICY_DAYS": 1}  # ended two days ago
    second = BotProcess(tmp_path, slack, DATABASE_URL=database_url, **ended)
    second.log = tmp_path / "bot-2.log"
    starting = asyncio.create_task(second.start())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while (await progress(database_url))[0] is None:  # until the first batch has committed
        assert loop.time() < deadline, "the end never began"
        await asyncio.sleep(0.002)
    second.kill()
    starting.cancel()
    partial, announced = await progress(database_url)
    assert announced is None and partial is not None
    expired_before = int(partial.rsplit("|", 1)[1])
    assert 0 < expired_before < PENDING

    third = BotProcess(tmp_path, slack, DATABASE_URL=database_url, **ended)
    third.log = tmp_path / "bot-3.log"
    await third.start()
    while (await progress(database_url))[1] is None:
        assert loop.time() < deadline + 60, "the end was never announced"
        await asyncio.sleep(0.05)
    assert third.stop() == 0
    url = database_url
    assert (await db.fetchone(url, "SELECT COUNT(*) FROM requests WHERE status = 'expired'"))[0] == PENDING
    assert (await db.fetchone(url, "SELECT COUNT(*) FROM requests WHERE status = 'pending'"))[0] == 0
    expiries = await db.fetchall(
        url, "SELECT request_id, COUNT(*) FROM audit WHERE action = 'expired' GROUP BY request_id"
    )
    assert len(expiries) == PENDING and {r[1] for r in expiries} == {1}
    [announcement] = await db.fetchall(url, "SELECT details FROM audit WHERE action = 'policy_ended'")
    assert f'"expired":{PENDING}' in announcement[0].replace(" ", "")
    notices = await db.fetchall(
        url, "SELECT data FROM outbox WHERE kind = 'policy_notice' AND data LIKE ?", ('%"ended"%',)
    )
    assert len(notices) == 1 and await progress(url) == (None, notices and (await progress(url))[1])
    logs = (tmp_path / "bot-3.log").read_text()
    assert "Traceback" not in logs

"""Two bot processes on one SQLite file: 100 interleaved decision attempts give exactly one
decision, nobody sees "database is locked", messages go out once, and the file stays sound."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp

from bot.sandbox.slack_standin import SlackStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver, form_values, reason_values
from tests.process import BotProcess


async def test_one_decision_across_two_processes(tmp_path: Path, slack: SlackStandIn) -> None:
    a, b = BotProcess(tmp_path, slack), BotProcess(tmp_path, slack)
    b.log = tmp_path / "bot-b.log"
    await a.start()
    await b.start()
    async with aiohttp.ClientSession() as session:
        drivers = [SlackDriver(a.url, slack, session), SlackDriver(b.url, slack, session)]
        await drivers[0].submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
        await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) == 1)

        async def attempt(i: int) -> int:
            driver = drivers[i % 2]
            if i % 3:
                return (await driver.click("U0SENIOR1", ids.APPROVE, "1")).status
            reply = await driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("no"), private_metadata="1")
            return reply.status

        statuses = await asyncio.gather(*(attempt(i) for i in range(100)))
        assert statuses == [200] * 100
        await slack.wait_for(
            lambda: any("was approved" in m.text or "was denied" in m.text for m in slack.dms("U0JUNIOR1"))
        )
        await slack.wait_for(lambda: len(slack.ephemerals) >= 1 and slack.dms("U0SENIOR1")[0].updates >= 1)
    assert a.stop() == 0 and b.stop() == 0

    db = tmp_path / "signoff.db"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'decided'").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    outcomes = [m for m in slack.dms("U0JUNIOR1") if "was approved" in m.text or "was denied" in m.text]
    assert len(outcomes) == 1
    assert slack.dms("U0SENIOR1")[0].updates == 1  # both processes drain one outbox; each row goes out once
    logs = a.log.read_text() + b.log.read_text()
    assert "database is locked" not in logs and "Traceback" not in logs
    for text in slack.ephemeral_texts():
        assert "already" in text and "went wrong" not in text

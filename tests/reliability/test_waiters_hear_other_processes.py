"""A pipeline long-polling one process hears of a decision made in another process on the same
database (another replica on PostgreSQL, another process on the SQLite file) before its wait ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.sandbox.slack_standin import SlackStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver
from tests.harness import CI_TOKEN
from tests.process import BotProcess

HEADERS = {"Authorization": f"Bearer {CI_TOKEN}"}


async def test_a_waiter_on_one_process_hears_a_click_on_another(
    tmp_path: Path, slack: SlackStandIn, database_url: str
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = BotProcess(tmp_path / "a", slack, DATABASE_URL=database_url)
    b = BotProcess(tmp_path / "b", slack, DATABASE_URL=database_url)
    await a.start()
    await b.start()
    try:
        async with aiohttp.ClientSession() as session:
            body = {
                "requester": "U0JUNIOR1",
                "title": "t",
                "url": "https://x.example/1",
                "ai_assisted": True,
                "destructive": False,
            }
            async with session.post(f"{a.url}/api/v1/requests", json=body, headers=HEADERS) as resp:
                created = await resp.json()
            assert created["status"] == "pending"
            ref = created["id"]

            async def wait_on_a() -> dict[str, str]:
                async with session.get(f"{a.url}/api/v1/requests/{ref}?wait=60", headers=HEADERS) as resp:
                    return dict(await resp.json())

            waiter = asyncio.create_task(wait_on_a())
            await asyncio.sleep(0.5)  # the waiter is waiting
            assert not waiter.done()
            click = await SlackDriver(b.url, slack, session).click(created["reviewer"], ids.APPROVE, ref[3:])
            assert click.status == 200
            # Woken by the other process's commit: the first answer is the decision, not "pending" at 60 s.
            answer = await asyncio.wait_for(waiter, timeout=30)
            assert answer["status"] == "approved"
    finally:
        assert a.stop() == 0
        assert b.stop() == 0

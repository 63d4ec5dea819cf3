"""Crashes: a decision committed before Slack heard of it is announced exactly once after a
restart; a transaction cut short leaves nothing behind; `kill -9` at random moments under load
loses no acknowledged request, duplicates none, and leaves an audit chain that verifies."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.slack_standin import Failure, SlackStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver, form_values
from tests.harness import CI_TOKEN
from tests.process import BotProcess


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def verify(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify", "--database", str(db)], capture_output=True, text=True
    )


async def test_a_decision_slack_never_heard_of_is_announced_once_after_restart(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    async with aiohttp.ClientSession() as session:
        driver = SlackDriver(bot.url, slack, session)
        await driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
        await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) == 1 and len(slack.dms("U0JUNIOR1")) == 1)
        slack.fail_always("chat.postMessage", Failure(status=503))
        slack.fail_always("chat.update", Failure(status=503))
        assert (await driver.click("U0SENIOR1", ids.APPROVE, "1")).status == 200  # committed before this 200
        await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage", ok=False)) >= 1)
        bot.kill()
        slack.fail_always("chat.postMessage", None)
        slack.fail_always("chat.update", None)
        await bot.start()
        await slack.wait_for(lambda: any("was approved" in m.text for m in slack.dms("U0JUNIOR1")))
        await slack.wait_for(lambda: slack.dms("U0SENIOR1")[0].updates == 1)
        assert bot.stop() == 0
    assert len([m for m in slack.dms("U0JUNIOR1") if "was approved" in m.text]) == 1
    assert slack.dms("U0SENIOR1")[0].updates == 1


CRASH_MID_TRANSACTION = r"""
import asyncio, os, sys
from datetime import UTC, datetime
from bot.domain.models import FinalReason, Status
from bot.services import notices
from bot.domain.audit import AuditEntry
from bot.store.sqlite import SqliteStore

async def main():
    store = SqliteStore(sys.argv[1])
    await store.open()
    now = datetime.now(UTC)
    async with store.write() as tx:
        await tx.decisions.record(1, "U0SENIOR1", "approve", None, now)
        assert await tx.requests.set_outcome(
            1, status=Status.APPROVED, now=now, requested_at=now, final=FinalReason.APPROVED, decided_by="U0SENIOR1"
        )
        await tx.audit.append(now, AuditEntry("U0SENIOR1", "decided", 1))
        await tx.outbox.enqueue(now, notices.review_refresh(1))
        os._exit(9)  # the process dies here, before COMMIT

asyncio.run(main())
"""


async def test_a_crash_inside_a_transaction_leaves_nothing_behind(tmp_path: Path, slack: SlackStandIn) -> None:
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    async with aiohttp.ClientSession() as session:
        await SlackDriver(bot.url, slack, session).submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
    await slack.wait_for(lambda: len(slack.dms("U0SENIOR1")) == 1)
    assert bot.stop() == 0
    db = tmp_path / "signoff.db"

    def snapshot() -> tuple[Any, ...]:
        conn = sqlite3.connect(db)
        try:
            return tuple(
                conn.execute(sql).fetchall()
                for sql in (
                    "SELECT id, status, decided_by FROM requests",
                    "SELECT seq, hash FROM audit",
                    "SELECT id, status FROM outbox",
                    "SELECT * FROM decisions",
                )
            )
        finally:
            conn.close()

    before = snapshot()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASH_MID_TRANSACTION, str(db), stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 9, err.decode()
    assert snapshot() == before
    assert integrity(db) == "ok"
    assert verify(db).returncode == 0


async def test_kill_9_at_random_moments_under_load(tmp_path: Path, slack: SlackStandIn) -> None:
    rng = random.Random(20261127)
    bot = BotProcess(tmp_path, slack)
    await bot.start()
    up = asyncio.Event()
    up.set()
    done = 0
    kills_at = sorted(rng.sample(range(30, 270), 3))
    created: dict[str, str] = {}  # idempotency key -> request id, for every 2xx
    reviewer_of: dict[str, str] = {}
    failed_keys: list[str] = []
    approved: set[str] = set()  # clicks answered 200
    clicked: set[str] = set()
    ops: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for i in range(300):
        ops.put_nowait(("click", "") if i % 4 == 3 else ("create", f"key-{i}"))
    headers = {"Authorization": f"Bearer {CI_TOKEN}"}

    async def create(session: aiohttp.ClientSession, key: str) -> None:
        body = {
            "requester": "U0JUNIOR1",
            "title": f"change {key}",
            "url": "https://e.example/1",
            "ai_assisted": True,
            "destructive": False,
        }
        async with session.post(
            f"{bot.url}/api/v1/requests", json=body, headers={**headers, "Idempotency-Key": key}
        ) as r:
            if r.status in (200, 201):
                reply = await r.json()
                created[key] = reply["id"]
                reviewer_of[reply["id"]] = reply["reviewer"]
            else:
                failed_keys.append(key)

    async def click(session: aiohttp.ClientSession, driver: SlackDriver) -> None:
        todo = [ref for ref in reviewer_of if ref not in clicked]
        if not todo:
            return
        ref = todo[0]
        clicked.add(ref)
        reply = await driver.click(reviewer_of[ref], ids.APPROVE, ref[3:])
        if reply.status == 200:
            approved.add(ref)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        driver = SlackDriver(bot.url, slack, session)
        while not ops.empty():
            kind, key = ops.get_nowait()
            await up.wait()
            try:
                if kind == "create":
                    await create(session, key)
                else:
                    await click(session, driver)
            except (TimeoutError, aiohttp.ClientError):
                if kind == "create":
                    failed_keys.append(key)
            async with progress:
                done += 1
                progress.notify_all()

    progress = asyncio.Condition()

    async def killer() -> None:
        for at in kills_at:
            async with progress:
                await progress.wait_for(lambda: done >= at)  # noqa: B023 - `at` is this iteration's
            up.clear()
            bot.kill()
            await bot.start()
            up.set()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        await asyncio.gather(killer(), *(worker(session) for _ in range(8)))
        # A key whose answer was lost is retried after the restart: it must not create a second request.
        for key in failed_keys:
            await create(session, key)
    assert bot.stop() == 0
    db = tmp_path / "signoff.db"
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT id, idempotency_key, status FROM requests").fetchall()
    finally:
        conn.close()
    by_key = {}
    for request_id, key, status in rows:
        assert key not in by_key, f"{key} was stored twice"
        by_key[key] = (f"CR-{request_id}", status)
    for key, ref in created.items():
        assert by_key[f"api:ci:{key}"][0] == ref  # every acknowledged request is there, under its id
    for ref in approved:
        assert dict(by_key.values())[ref] == "approved"  # every acknowledged click counted
    assert len(rows) == len(created) == 225
    assert failed_keys  # the kills really did cut requests short
    assert integrity(db) == "ok"
    result = verify(db)
    assert result.returncode == 0, result.stderr

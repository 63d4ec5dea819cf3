"""The loop budget: with a year's data (a million requests in the period, 10,000 pending, two
million audit rows, 100,000 delivery keys), nothing holds the bot's event loop longer than 50 ms.

The bot runs as a process on that database. Each operation that grows with the data runs in
turn (the catch-up at start with its reminders, escalations, prune and load fold; the report;
the summary; App Home; an export by `signoff audit export`; the policy's end with 10,000
requests to expire) while a probe sends `/signoff help` as another user every 50 ms and the bot's
loop-lag histogram is read before and after. The table gives, per operation,
how long it took, the worst loop lag the bot measured and the probe's worst answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench import procs
from bench.databases import Databases, connect
from bench.load import signed
from bench.report import table, verdict
from bench.seed import seed_year
from bot.sandbox.slack_standin import mint_trigger

BUDGET_MS = 50.0


def command(user: str, text: str, respond: str) -> str:
    return urlencode(
        {
            "command": "/signoff",
            "text": text,
            "user_id": user,
            "team_id": "T0TEAM",
            "channel_id": "C0GENERAL",
            "trigger_id": mint_trigger(),
            "response_url": respond,
        }
    )


class Watch:
    """Another user's answers and the bot's own loop lag, while something runs."""

    def __init__(self, session: aiohttp.ClientSession, bot: str, respond: str) -> None:
        self.session, self.bot, self.respond = session, bot, respond
        self.probe_ms: list[float] = []
        self.failures = 0

    async def _probe(self) -> None:
        while True:
            body = command(procs.JUNIORS[0], "help", self.respond)
            t = time.perf_counter()
            try:
                async with self.session.post(f"{self.bot}/slack/events", data=body, headers=signed(body)) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            self.probe_ms.append((time.perf_counter() - t) * 1000)
            self.failures += not ok
            await asyncio.sleep(0.05)

    async def lag_buckets(self) -> dict[float, float]:
        """The bot's loop-lag histogram: upper bound (ms) -> observations at or below it."""
        async with self.session.get(f"{self.bot}/metrics") as r:
            text = await r.text()
        found = {}
        for line in text.splitlines():
            if line.startswith("signoff_event_loop_lag_seconds_bucket{"):
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                found[float("inf") if bound == "+Inf" else float(bound) * 1000] = float(line.split()[-1])
        return found

    def worst(self, before: dict[float, float], after: dict[float, float]) -> float:
        """The smallest bucket bound that holds every loop-lag sample taken in between."""
        total = after[float("inf")] - before.get(float("inf"), 0.0)
        for bound in sorted(after):
            if after[bound] - before.get(bound, 0.0) >= total:
                return bound
        return float("inf")

    async def during(self, work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        self.probe_ms, self.failures = [], 0
        before = await self.lag_buckets()
        probe = asyncio.create_task(self._probe())
        t = time.perf_counter()
        try:
            await work()
        finally:
            took = time.perf_counter() - t
            await asyncio.sleep(0.3)  # the last lag sample lands
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
        worst_lag = self.worst(before, await self.lag_buckets())
        return {
            "took_s": round(took, 2),
            "worst_lag_ms": f"<= {worst_lag:g}",
            "probe_worst_ms": round(max(self.probe_ms, default=float("nan")), 1),
            "probe_p50_ms": round(sorted(self.probe_ms)[len(self.probe_ms) // 2], 1) if self.probe_ms else None,
            "probe_failures": self.failures,
            "<= 50 ms": verdict(worst_lag <= BUDGET_MS),
        }


async def until(check: Callable[[], Awaitable[bool]], limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("an operation did not finish")
        await asyncio.sleep(0.2)


def _scalar(db: str, sql: str) -> Any:
    with connect(db) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


async def bench_loop(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    size = (
        {"requests": 20_000, "pending": 1_000, "audit_rows": 40_000, "deliveries": 5_000}
        if smoke
        else {"requests": 1_000_000, "pending": 10_000, "audit_rows": 2_000_000, "deliveries": 100_000}
    )
    db = dbs.fresh("loop")
    stand = procs.standin(work)
    start = (datetime.now(UTC) - timedelta(days=85)).isoformat()
    settings = {
        "POLICY_START": start,
        "POLICY_DAYS": "90",
        "REMINDER_AFTER": "10m",
        "ESCALATE_AFTER": "30m",
        "SWEEP_EVERY": "5s",
    }
    bot = procs.bot(work, stand.url + "/api/", db, **settings).start()  # the schema
    bot.stop()
    t = time.perf_counter()
    await asyncio.to_thread(seed_year, db, **size)
    seeded_s = time.perf_counter() - t
    rows: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def calls(method: str) -> int:
            auth = {"Authorization": f"Bearer {procs.BOT_TOKEN}"}
            async with session.post(f"{stand.url}/api/bench.counts", headers=auth) as r:
                return int((await r.json())["counts"].get(method, 0))

        async def sent(kind: str) -> bool:
            done = f"SELECT COUNT(*) FROM outbox WHERE kind = '{kind}' AND status <> 'pending'"
            return bool(await asyncio.to_thread(_scalar, db, done))

        async def slack(user: str, text: str) -> None:
            body = command(user, text, f"{stand.url}/respond/bench")
            async with session.post(f"{bot.url}/slack/events", data=body, headers=signed(body)) as r:
                await r.read()

        watch = Watch(session, bot.url, f"{stand.url}/respond/probe")

        async def catch_up() -> None:  # the bot was just started: its sweeps catch up on the seeded year
            await until(lambda: asyncio.to_thread(lambda: _scalar(db, "SELECT COUNT(*) FROM deliveries") == 0))
            await asyncio.sleep(3 if smoke else 15)  # reminders and escalations of the overdue reviews

        async def report() -> None:
            await slack(procs.SENIORS[0], "report")
            await until(lambda: sent("report_reply"))

        async def summary() -> None:
            await slack(procs.SENIORS[0], "summary")
            await until(lambda: sent("summary_post"))

        async def home() -> None:
            before = await calls("views.publish")
            event = {"type": "app_home_opened", "user": procs.SENIORS[0], "tab": "home"}
            body = json.dumps({"type": "event_callback", "event_id": f"Ev{time.time_ns()}", "event": event})
            headers = {**signed(body), "Content-Type": "application/json"}
            async with session.post(f"{bot.url}/slack/events", data=body, headers=headers) as r:
                await r.read()
            await until(lambda: _more(calls("views.publish"), before))

        async def export() -> None:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "audit", "export", "--database", db, "--format", "jsonl",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd=procs.ROOT,
                env={**os.environ, "PYTHONPATH": str(procs.ROOT)},
            )  # fmt: skip
            _, err = await proc.communicate()
            assert proc.returncode == 0, err.decode()[-500:]

        async def policy_end() -> None:
            await slack("U0ADMIN1", "policy end")
            await until(
                lambda: asyncio.to_thread(
                    lambda: _scalar(db, "SELECT COUNT(*) FROM meta WHERE key = 'policy_end_announced'") == 1
                )
            )

        bot.start()
        try:
            for name, work_ in (
                ("start: catch-up sweeps, prune, fold", catch_up),
                ("/signoff report", report),
                ("/signoff summary", summary),
                ("App Home", home),
                ("signoff audit export (another process)", export),
                (f"/signoff policy end ({size['pending']:,} to expire)", policy_end),
            ):
                rows.append({"operation": name, **(await watch.during(work_))})
        finally:
            bot.stop()
            stand.stop()
    worst = max(float(str(r["worst_lag_ms"]).removeprefix("<= ")) for r in rows)
    results["loop"] = {"size": size, "seeded_s": round(seeded_s, 1), "rows": rows, "worst_lag_ms": worst}
    table(
        f"Loop budget with {size['requests']:,} requests ({size['pending']:,} pending), "
        f"{size['audit_rows']:,} audit rows, {size['deliveries']:,} delivery keys",
        rows,
    )


async def _more(count: Awaitable[int], before: int) -> bool:
    return await count > before

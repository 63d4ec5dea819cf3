"""Busy, not late: at two and four times the rate the bot can serve, every Slack request is still
answered within Slack's 3 seconds; what cannot be done in time gets a prompt busy answer.

The saturation rate is the highest rate of the mixed load (commands, clicks, form submissions)
whose p99 stays under 500 ms with no errors. Then the same mix is offered at 2x and 4x that rate
for 20 seconds each, open loop. Late answers (after 3 s, or none) must be 0; busy answers are
read from the bot's own ``signoff_busy_answers_total``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bench import procs
from bench.databases import Databases
from bench.load import SlackTraffic, open_loop
from bench.report import table, verdict


async def busy_answers(session: aiohttp.ClientSession, bot: str) -> float:
    async with session.get(f"{bot}/metrics") as r:
        text = await r.text()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("signoff_busy_answers_total{"))


async def bench_overload(
    work: Path,
    dbs: Databases,
    smoke: bool,
    results: dict[str, Any],
    create: Any,
    saturation: Any,
) -> None:
    db = dbs.fresh("overload")
    stand = procs.standin(work)
    bot = procs.bot(work, stand.url + "/api/", db).start()
    rows = []
    try:
        decisions = await create(bot.url, 200 if smoke else 6000)
        if smoke:
            rate = 20
        else:
            rate = await saturation(bot.url, stand.url, decisions, [100, 150, 200, 300, 400, 500, 600, 800], 5, db)
        seconds = 3 if smoke else 20
        traffic = SlackTraffic(stand.url, procs.JUNIORS, decisions)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            for factor in (2, 4):
                before = await busy_answers(session, bot.url)
                stats = await open_loop(session, f"{bot.url}/slack/events", traffic.next_body, rate * factor, seconds)
                busy = await busy_answers(session, bot.url) - before
                rows.append(
                    {
                        "offered": f"{factor}x ({rate * factor}/s)",
                        "sent": stats.sent,
                        "answered in time": len(stats.latencies),
                        "late or none (> 3 s)": stats.errors,
                        "busy answers": int(busy),
                        "p50_ms": round(stats.pct(50), 1),
                        "p99_ms": round(stats.pct(99), 1),
                        "max_ms": stats.row()["max_ms"],
                        "0 late": verdict(stats.errors == 0),
                    }
                )
    finally:
        bot.stop()
        stand.stop()
    results["overload"] = {"saturation": rate, "rows": rows}
    table(f"Overload: twice and four times the saturation rate ({rate}/s), {seconds} s each", rows)

"""signoff benchmarks. Prints tables and writes bench/results/latest.json.

    python bench/run.py            # everything but the soak (about 30 minutes on 2 cores, seeding included)
    python bench/run.py --smoke    # a few seconds: proves the scripts work (run by .ci/run)
    python bench/run.py --soak     # adds 10 minutes of mixed load
    python bench/run.py --only ack,api

Targets (see README, "Performance") are printed as PASS or MISS; a miss does not fail the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench import procs
from bench.databases import Databases, connect, pending_outbox
from bench.load import SlackTraffic, Stats, approve_body, open_loop, signed
from bench.loop import bench_loop
from bench.overload import bench_overload
from bench.report import table, verdict
from bench.seed import seed_audit, seed_requests

RESULTS = Path(__file__).resolve().parent / "results"
API_HEADERS = {"Authorization": f"Bearer {procs.API_TOKEN}"}


async def create_requests(url: str, n: int, concurrency: int = 16) -> list[tuple[str, str]]:
    """Create n pending requests through the API; returns (request number, reviewer) pairs."""
    out: list[tuple[str, str]] = []
    queue = list(range(n))

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            i = queue.pop()
            body = {
                "requester": procs.JUNIORS[i % len(procs.JUNIORS)],
                "title": f"seed {i}",
                "url": "https://git.example.com/pr/1",
                "ai_assisted": True,
                "destructive": False,
            }
            async with session.post(f"{url}/api/v1/requests", json=body, headers=API_HEADERS) as r:
                reply = await r.json()
                if r.status == 201 and reply["reviewer"]:
                    out.append((reply["id"].removeprefix("CR-"), reply["reviewer"]))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return out


async def wait_outbox_idle(db: str, limit: float = 120) -> float:
    """Seconds until the bot has delivered every queued message."""

    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if await asyncio.to_thread(pending_outbox, db) == 0:
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - t0


async def ack_rates(
    app_url: str,
    respond_base: str,
    decisions: list[tuple[str, str]],
    rates: list[int],
    seconds: float,
    db: str | None = None,
) -> dict[int, Stats]:
    """Each rate starts from a settled app: the messages of the previous step are delivered first."""
    out = {}
    traffic = SlackTraffic(respond_base, procs.JUNIORS, decisions)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for rate in rates:
            if db is not None:
                await wait_outbox_idle(db)
            out[rate] = await open_loop(session, f"{app_url}/slack/events", traffic.next_body, rate, seconds)
    return out


async def saturation(
    app_url: str,
    respond_base: str,
    decisions: list[tuple[str, str]],
    rates: list[int],
    seconds: float,
    db: str | None = None,
) -> int:
    best = 0
    for rate in rates:
        stats = (await ack_rates(app_url, respond_base, decisions, [rate], seconds, db))[rate]
        if stats.errors == 0 and stats.pct(99) < 500:
            best = rate
        else:
            break
    return best


async def bench_ack(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    rates = [10] if smoke else [10, 100, 300]
    seconds = 2 if smoke else 20
    stand = procs.standin(work)
    ack_db = dbs.fresh("ack")
    bot = procs.bot(work, stand.url + "/api/", ack_db).start()
    floor = procs.floor(work, stand.url + "/api/").start()
    try:
        decisions = await create_requests(bot.url, 40 if smoke else 4000)
        rows = []
        per_rate: dict[int, dict[str, Any]] = {}
        for rate in rates:  # the same load on both apps, one after the other, at each rate
            f = (await ack_rates(floor.url, stand.url, decisions, [rate], seconds))[rate]
            b = (await ack_rates(bot.url, stand.url, decisions, [rate], seconds, ack_db))[rate]
            ratio50, ratio99 = b.pct(50) / f.pct(50), b.pct(99) / f.pct(99)
            per_rate[rate] = {
                "floor": f.row(),
                "bot": b.row(),
                "ratio_p50": round(ratio50, 2),
                "ratio_p99": round(ratio99, 2),
            }
            for name, s in (("floor", f), ("bot", b)):
                rows.append({"rate/s": rate, "app": name, **s.row()})
            rows.append({"rate/s": rate, "app": "bot/floor", "p50_ms": f"{ratio50:.2f}x", "p99_ms": f"{ratio99:.2f}x"})
        table("Ack latency, signed commands + clicks + submissions, open loop", rows)
        results["ack"] = per_rate
        if not smoke:
            sat_rates = [200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000]
            sat_floor = await saturation(floor.url, stand.url, decisions, sat_rates, 5)
            sat_bot = await saturation(bot.url, stand.url, decisions, [100, 150, *sat_rates], 5, ack_db)
            results["saturation"] = {"floor": sat_floor, "bot": sat_bot}
            table(
                "Saturation: highest rate with p99 < 500 ms and no errors",
                [
                    {"app": "floor", "rate/s": sat_floor},
                    {"app": "bot", "rate/s": sat_bot},
                    {"app": "target", "rate/s": f"bot >= floor/2: {verdict(sat_bot * 2 >= sat_floor)}"},
                ],
            )
            at100 = per_rate[100]
            results["ack_targets"] = {
                "ratio_100_p50": verdict(at100["ratio_p50"] <= 1.25),
                "ratio_100_p99": verdict(at100["ratio_p99"] <= 1.25),
                "errors_100": verdict(at100["bot"]["errors"] == 0),
            }
    finally:
        floor.stop()
        bot.stop()
        stand.stop()
    # Slow Slack: every Web API answer takes 500 ms; nothing before the ack waits on Slack.
    slow = procs.standin(work, delay=0.5)
    bot = procs.bot(work, slow.url + "/api/", dbs.fresh("slow")).start()
    try:
        decisions = await create_requests(bot.url, 40 if smoke else 1500)
        rate = 10 if smoke else 100
        s = (await ack_rates(bot.url, slow.url, decisions, [rate], seconds))[rate]
        fast = results["ack"][rate]["bot"]
        ratio = s.pct(99) / fast["p99_ms"]
        results["slow_slack"] = {"rate": rate, "bot": s.row(), "p99_vs_fast": round(ratio, 2)}
        table(
            "Slow Slack (every Web API call answers after 500 ms)",
            [
                {
                    "rate/s": rate,
                    **s.row(),
                    "p99 vs fast Slack": f"{ratio:.2f}x",
                    "target <= 1.25x": verdict(ratio <= 1.25),
                }
            ],
        )
    finally:
        bot.stop()
        slow.stop()


async def bench_api(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    stored = 1_000 if smoke else 100_000
    db = dbs.fresh("api")
    stand = procs.standin(work)
    bot = procs.bot(work, stand.url + "/api/", db).start()  # creates the schema
    bot.stop()
    seed_requests(db, stored)
    bot.start()
    try:
        rss_before = procs.rss_mb(bot.pid)
        seconds = 2 if smoke else 10
        rate = await create_load([bot.url], seconds)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            backlog_s = await wait_outbox_idle(db)  # GETs are measured on their own, after the messages went out
            rng = random.Random(3)
            latencies: list[float] = []

            async def getter() -> None:
                for _ in range(100 if smoke else 1000):
                    ref = f"CR-{rng.randint(1, stored)}"
                    t = time.perf_counter()
                    async with session.get(f"{bot.url}/api/v1/requests/{ref}", headers=API_HEADERS) as r:
                        await r.read()
                    latencies.append(time.perf_counter() - t)

            await asyncio.gather(*(getter() for _ in range(4)))
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        rss_after = procs.rss_mb(bot.pid)
        results["api"] = {
            "stored": stored,
            "creates_per_s": round(rate),
            "get_p99_ms": round(p99, 2),
            "outbox_drain_s": round(backlog_s, 1),
            "get_p50_ms": round(statistics.median(latencies) * 1000, 2),
        }
        results["memory"] = {"rss_mb_start": round(rss_before, 1), "rss_mb_after_load": round(rss_after, 1)}
        table(
            f"Pipeline API with {stored:,} requests stored",
            [
                {
                    "measure": "creates/s (32 clients)",
                    "value": round(rate),
                    "target": ">= 1000",
                    "": verdict(rate >= 1000),
                },
                {"measure": "outbox drained after the creates, s", "value": round(backlog_s, 1), "target": "", "": ""},
                {"measure": "GET p50 ms", "value": results["api"]["get_p50_ms"], "target": "", "": ""},
                {"measure": "GET p99 ms", "value": round(p99, 2), "target": "<= 10", "": verdict(p99 <= 10)},
                {
                    "measure": "RSS MB after storing and serving",
                    "value": round(rss_after, 1),
                    "target": "<= 150",
                    "": verdict(rss_after <= 150),
                },
            ],
        )
    finally:
        bot.stop()
        stand.stop()


async def create_load(urls: list[str], seconds: float, clients: int = 32) -> float:
    """Creates per second from ``clients`` concurrent pipelines, spread over ``urls`` (replicas)."""
    created = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def creator(k: int) -> None:
            nonlocal created
            i = 0
            while loop.time() < deadline:
                i += 1
                body = {
                    "requester": procs.JUNIORS[(k + i) % 40],
                    "title": f"load {k}-{i}",
                    "url": "https://git.example.com/pr/9",
                    "ai_assisted": True,
                    "destructive": False,
                }
                url = urls[(k + i) % len(urls)]
                async with session.post(f"{url}/api/v1/requests", json=body, headers=API_HEADERS) as r:
                    await r.read()
                    created += r.status == 201

        t0 = loop.time()
        await asyncio.gather(*(creator(k) for k in range(clients)))
        return created / (loop.time() - t0)


async def bench_replicas(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    """API creates/s with one and with three replicas on one PostgreSQL database."""
    if dbs.kind != "postgresql":
        print("\n## Replicas\n\n(PostgreSQL only: run with --database postgresql://...)")
        return
    stand = procs.standin(work)
    rows = []
    try:
        for n in (1, 3):
            db = dbs.fresh(f"replicas-{n}")
            bots = [procs.bot(work, stand.url + "/api/", db).start() for _ in range(n)]
            try:
                rate = await create_load([b.url for b in bots], 2 if smoke else 10)
            finally:
                for b in bots:
                    b.stop()
            rows.append({"replicas": n, "creates/s (32 clients)": round(rate)})
    finally:
        stand.stop()
    results["replicas"] = rows
    table("Replicas on one PostgreSQL database", rows)


async def bench_waiters(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    """Many pipelines long-polling one process: its memory, Slack acks beside them, and how soon
    each waiter hears of its decision."""
    import resource

    waiters = 200 if smoke else 5000
    decided = 50 if smoke else 500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the load generator holds a socket per waiter
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, waiters + 2048)), hard))
    rate, seconds = (10, 2) if smoke else (100, 10)
    db = dbs.fresh("waiters")
    stand = procs.standin(work)
    bot = procs.bot(work, stand.url + "/api/", db).start()
    try:
        clicks_each = rate * seconds  # a third are clicks; each phase approves requests of its own
        created = await create_requests(bot.url, waiters + 2 * clicks_each)
        waited, first, second = created[:waiters], created[waiters::2], created[waiters + 1 :: 2]
        quiet = (await ack_rates(bot.url, stand.url, first, [rate], seconds, db))[rate]
        answered: dict[str, float] = {}
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None)
        ) as session:

            async def wait(request_id: str) -> None:
                url = f"{bot.url}/api/v1/requests/CR-{request_id}?wait=60"  # as a pipeline does, again and again
                while True:
                    async with session.get(url, headers=API_HEADERS) as r:
                        body = await r.json()
                    if body.get("status") == "approved":
                        answered[request_id] = time.monotonic()
                        return

            tasks = [asyncio.create_task(wait(rid)) for rid, _ in waited]
            await until_waiting(session, bot.url, waiters)
            rss = procs.rss_mb(bot.pid)
            busy = (await ack_rates(bot.url, stand.url, second, [rate], seconds, db))[rate]
            delays = []
            for rid, reviewer in waited[:decided]:
                body = approve_body(rid, reviewer, f"{stand.url}/respond/{rid}")
                async with session.post(f"{bot.url}/slack/events", data=body, headers=signed(body)) as r:
                    await r.read()
                decided_at = time.monotonic()
                for _ in range(200):
                    if rid in answered:
                        break
                    await asyncio.sleep(0.01)
                delays.append(answered.get(rid, float("inf")) - decided_at)
                await asyncio.sleep(1 / 50)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        bot.stop()
        stand.stop()
    delays.sort()
    ratio = busy.pct(99) / quiet.pct(99)
    worst = delays[-1]
    results["waiters"] = {
        "waiters": waiters,
        "rss_mb": round(rss, 1),
        "ack_p99_quiet_ms": quiet.pct(99),
        "ack_p99_waiting_ms": busy.pct(99),
        "answer_p99_s": round(delays[int(len(delays) * 0.99) - 1], 3),
        "answer_max_s": round(worst, 3),
    }
    table(
        f"{waiters:,} pipelines long-polling one process",
        [
            {"measure": "RSS MB with every waiter connected", "value": round(rss, 1), "target": "<= 200",
             "": verdict(rss <= 200)},
            {"measure": f"ack p99 at {rate}/s beside them vs without, ms",
             "value": f"{busy.pct(99):.1f} vs {quiet.pct(99):.1f}", "target": "<= 1.25x", "": verdict(ratio <= 1.25)},
            {"measure": f"waiter answered after its decision, max of {decided} (s)", "value": round(worst, 3),
             "target": "<= 1", "": verdict(worst <= 1)},
        ],
    )  # fmt: skip


async def until_waiting(session: aiohttp.ClientSession, url: str, waiters: int, limit: float = 120) -> None:
    """Until the bot's /metrics says ``waiters`` long-polls are waiting."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        async with session.get(f"{url}/metrics") as r:
            lines = [ln for ln in (await r.text()).splitlines() if ln.startswith("signoff_api_long_polls ")]
        if lines and float(lines[0].split()[1]) >= waiters:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {waiters} long-polls were waiting after {limit:.0f} s")


def bench_memory_flat(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    """RSS with a small and a large database, after the same work: flat means it does not grow with the data."""
    sizes = [500, 2_000] if smoke else [10_000, 100_000]
    stand = procs.standin(work)
    rows = []
    try:
        for n in sizes:
            db = dbs.fresh(f"mem-{n}")
            bot = procs.bot(work, stand.url + "/api/", db).start()
            bot.stop()
            seed_requests(db, n)
            bot.start()
            asyncio.run(create_requests(bot.url, 20 if smoke else 200))
            rows.append({"stored": n, "rss_mb": round(procs.rss_mb(bot.pid), 1)})
            bot.stop()
    finally:
        stand.stop()
    growth = rows[-1]["rss_mb"] - rows[0]["rss_mb"]
    results["memory_flat"] = {"rows": rows, "growth_mb": round(growth, 1)}
    table("Memory against data size", [*rows, {"stored": "growth", "rss_mb": f"{growth:.1f} ({verdict(growth < 20)})"}])


async def bench_summary(work: Path, dbs: Databases, smoke: bool, results: dict[str, Any]) -> None:
    from zoneinfo import ZoneInfo

    from bot.clock import SystemClock
    from bot.domain.audit import verify_rows
    from bot.roster import RosterSource
    from bot.services import policy_state, queries
    from bot.services.deps import Deps
    from bot.services.summary import pending_summary
    from bot.slack.scheduled_messages import summary_message
    from bot.store import store_for

    pending = 500 if smoke else 10_000
    audit_rows = 10_000 if smoke else 1_000_000
    db_url = dbs.fresh("summary")
    db = store_for(db_url)
    await db.open()
    await policy_state.initialise(db, None, 90, datetime.now(UTC))
    await db.close()
    seed_requests(db_url, pending, pending_share=1.0)
    seed_audit(db_url, audit_rows)
    (work / "roster.yml").write_text(procs.roster_yaml())
    db = store_for(db_url)
    await db.open()
    deps = Deps(
        store=db, roster=RosterSource(work / "roster.yml").current, clock=SystemClock(), summary_channel=procs.SUMMARY
    )

    async def timed(fn: Callable[[], Any], n: int) -> float:
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            await fn()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples) * 1000

    from datetime import timedelta

    async def build_summary() -> None:
        summary_message(await pending_summary(deps, timedelta(hours=4)), ZoneInfo("UTC"))

    rng = random.Random(5)

    async def status_lookup() -> None:
        request_id = rng.randint(1, pending)
        await queries.get_request(deps, request_id)
        async with db.read() as r:
            await r.assignments.everyone(request_id)

    verify_db = dbs.fresh("verify")
    vdb = store_for(verify_db)
    await vdb.open()
    await vdb.close()
    seed_audit(verify_db, 10_000)
    t = time.perf_counter()
    vdb = store_for(verify_db, tool=True)
    await vdb.open()
    async with vdb.read(snapshot=True) as r:
        checked, _, broken = verify_rows([row async for row in r.audit.rows()])
    await vdb.close()
    verify_ms = (time.perf_counter() - t) * 1000
    assert checked == 10_000 and broken is None
    summary_ms = await timed(build_summary, 20)
    status_ms = await timed(status_lookup, 200)
    explain = "EXPLAIN QUERY PLAN" if dbs.kind == "sqlite" else "EXPLAIN"
    await db.close()
    with connect(db_url) as conn:
        plan = conn.execute(
            f"{explain} SELECT * FROM requests WHERE status = 'pending' ORDER BY created_at, id LIMIT 25"
        ).fetchall()
    results["summary"] = {
        "pending": pending,
        "build_ms": round(summary_ms, 2),
        "audit_rows": audit_rows,
        "status_ms": round(status_ms, 3),
        "verify_10k_ms": round(verify_ms, 1),
        "plan": [str(r[3] if dbs.kind == "sqlite" else r[0]) for r in plan],
    }
    table(
        "At scale",
        [
            {
                "measure": f"summary with {pending:,} pending (median)",
                "ms": round(summary_ms, 2),
                "target": "<= 100",
                "": verdict(summary_ms <= 100),
            },
            {
                "measure": "audit verify of 10,000 rows",
                "ms": round(verify_ms, 1),
                "target": "well under 1000",
                "": verdict(verify_ms < 500),
            },
            {
                "measure": f"status lookup with {audit_rows:,} audit rows",
                "ms": round(status_ms, 3),
                "target": "<= 5",
                "": verdict(status_ms <= 5),
            },
        ],
    )
    print("summary query plan:", "; ".join(results["summary"]["plan"]))


async def bench_soak(work: Path, results: dict[str, Any], minutes: float, chunk_s: float = 30) -> None:
    stand = procs.standin(work)
    db = work / "soak.db"
    bot = procs.bot(work, stand.url + "/api/", f"sqlite:///{db}").start()
    try:
        decisions = await create_requests(bot.url, int(chunk_s * 100))
        rss0 = procs.rss_mb(bot.pid)
        traffic = SlackTraffic(stand.url, procs.JUNIORS, decisions)
        samples = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            end = time.monotonic() + minutes * 60
            while time.monotonic() < end:
                s = await open_loop(session, f"{bot.url}/slack/events", traffic.next_body, 50, chunk_s)
                await create_requests(bot.url, int(chunk_s * 7), concurrency=4)
                samples.append(
                    {
                        "t_s": round(minutes * 60 - (end - time.monotonic())),
                        "rss_mb": round(procs.rss_mb(bot.pid), 1),
                        **s.row(),
                    }
                )
        wal = db.with_name(db.name + "-wal")
        wal_mb = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    finally:
        bot.stop()
        stand.stop()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "audit",
        "verify",
        "--database",
        str(db),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=procs.ROOT,
    )
    out, err = await proc.communicate()
    growth = samples[-1]["rss_mb"] - rss0
    results["soak"] = {
        "minutes": minutes,
        "rss_growth_mb": round(growth, 1),
        "wal_mb": round(wal_mb, 1),
        "audit_verify": proc.returncode == 0,
        "samples": samples,
    }
    table("Soak", samples)
    table(
        "Soak targets",
        [
            {"measure": "RSS growth MB", "value": round(growth, 1), "target": "< 20", "": verdict(growth < 20)},
            {"measure": "WAL MB at the end", "value": round(wal_mb, 1), "target": "< 64", "": verdict(wal_mb < 64)},
            {
                "measure": "audit verify",
                "value": (out or err).decode().strip()[:60],
                "target": "ok",
                "": verdict(proc.returncode == 0),
            },
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few seconds, to prove the scripts work")
    parser.add_argument("--soak", action="store_true", help="add the soak (10 minutes of mixed load)")
    parser.add_argument("--soak-minutes", type=float, default=10.0)
    parser.add_argument(
        "--only",
        default="ack,api,waiters,replicas,memory,summary,loop,overload",
        help="comma-separated sections (replicas: PostgreSQL)",
    )
    parser.add_argument(
        "--database",
        help="postgresql://user@host:5432/postgres to run on PostgreSQL (a database per section is created there);"
        " default: SQLite files",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # tables appear as they finish
    sections = set(args.only.split(","))
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "smoke": args.smoke,
        "database": "postgresql" if args.database else "sqlite",
    }
    print(
        f"signoff benchmarks — {results['date']} — {results['machine']} — {results['database']}"
        + (" — SMOKE" if args.smoke else "")
    )
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        work = Path(tmp)
        dbs = Databases(work, args.database)
        try:
            if "ack" in sections:
                asyncio.run(bench_ack(work, dbs, args.smoke, results))
            if "api" in sections:
                asyncio.run(bench_api(work, dbs, args.smoke, results))
            if "waiters" in sections:
                asyncio.run(bench_waiters(work, dbs, args.smoke, results))
            if "replicas" in sections:
                asyncio.run(bench_replicas(work, dbs, args.smoke, results))
            if "memory" in sections:
                bench_memory_flat(work, dbs, args.smoke, results)
            if "summary" in sections:
                asyncio.run(bench_summary(work, dbs, args.smoke, results))
            if "overload" in sections:
                asyncio.run(bench_overload(work, dbs, args.smoke, results, create_requests, saturation))
            if "loop" in sections:
                asyncio.run(bench_loop(work, dbs, args.smoke, results))
        finally:
            dbs.drop_all()
        if args.soak:
            if args.smoke:
                asyncio.run(bench_soak(work, results, 0.05, chunk_s=3))
            else:
                asyncio.run(bench_soak(work, results, args.soak_minutes))
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if results["database"] == "sqlite" else "-postgresql"
    out = RESULTS / (f"smoke{suffix}.json" if args.smoke else f"latest{suffix}.json")
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

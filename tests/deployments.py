"""A deployment of signoff as an operator runs it: one or more `signoff serve` processes on one
database, in front of the Slack stand-in, each driven over real HTTP like a load balancer would.

Race tests run the same cases on every shape in ``SHAPES``: one process on a SQLite file, one
process on PostgreSQL, and two processes (replicas) on one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bot.sandbox.slack_standin import SlackStandIn
from tests import backends
from tests.fakes.driver import Reply, SlackDriver
from tests.harness import CI_TOKEN, SUMMARY
from tests.process import BotProcess

SHAPES = ["sqlite", "postgresql", "postgresql-2-replicas"]
MANY = ["sqlite-2-processes", "postgresql-2-replicas"]  # several processes on one database
TEAMS = ["payments", "platform", "data"]
SENIORS = [f"U0SENIOR{i}" for i in range(1, 8)]
JUNIORS = ["U0JUNIOR1", "U0JUNIOR2", "U0JUNIOR3"]
# Three teams, seniors in each, so routing's team preference orders the same seniors differently
# for requesters of different teams.
ROSTER = "admins: [U0ADMIN1]\nengineers:\n" + "".join(
    f"  - {{user: {user}, level: {level}, team: {team}}}\n"
    for user, level, team in [
        *((j, "junior", TEAMS[i]) for i, j in enumerate(JUNIORS)),
        *((s, "senior", TEAMS[i % 3]) for i, s in enumerate(SENIORS)),
    ]
)
USERS = [*JUNIORS, *SENIORS, "U0ADMIN1"]
BUSY_RETRIES = 20  # a 503 busy answer is the contract under a burst; a client asks again


def _sql(url: str, sql: str) -> str:
    return sql if url.startswith("sqlite") else sql.replace("?", "%s")


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows read straight from the database, as an operator with psql or sqlite3 would."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()
    with psycopg.connect(url) as pg:
        return [tuple(r) for r in pg.execute(_sql(url, sql).encode(), params).fetchall()]


@dataclass
class Deployment:
    slack: SlackStandIn
    database_url: str
    replicas: list[BotProcess]
    session: aiohttp.ClientSession
    drivers: list[SlackDriver] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.drivers = [SlackDriver(r.url, self.slack, self.session) for r in self.replicas]

    def driver(self, i: int | None = None) -> SlackDriver:
        """The driver of replica ``i`` (modulo the count), or the next one in turn."""
        return self.drivers[(next(self._turn) if i is None else i) % len(self.drivers)]

    def url(self, i: int | None = None) -> str:
        return self.replicas[(next(self._turn) if i is None else i) % len(self.replicas)].url

    async def api(self, method: str, path: str, body: Any = None, replica: int | None = None, **headers: str) -> Any:
        """Call the pipeline API on a replica; returns (status, JSON body)."""
        all_headers = {"Authorization": f"Bearer {CI_TOKEN}", **headers}
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        async with self.session.request(method, self.url(replica) + path, data=data, headers=all_headers) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def create(self, requester: str, replica: int | None = None, **fields: Any) -> dict[str, Any]:
        body = {
            "requester": requester,
            "title": "Rotate the payments database credentials",
            "url": "https://github.com/acme/payments/pull/7",
            "ai_assisted": True,
            "destructive": False,
            **fields,
        }
        for _ in range(BUSY_RETRIES):  # as a pipeline does: a busy answer stored nothing, so ask again
            status, answer = await self.api("POST", "/api/v1/requests", body, replica)
            if status != 503:
                break
            await asyncio.sleep(0.5)
        assert status == 201, answer
        return dict(answer)

    async def wait_final(self, ref: str, replica: int | None = None) -> dict[str, Any]:
        """What a pipeline long-polling for the outcome hears (it asks again until final)."""
        for _ in range(4):
            status, answer = await self.api("GET", f"/api/v1/requests/{ref}?wait=15", replica=replica)
            assert status == 200, answer
            if answer["status"] != "pending":
                return dict(answer)
        raise AssertionError(f"{ref} never became final")

    async def click(self, user: str, action: str, value: str, replica: int | None = None) -> Reply:
        return await self.driver(replica).click(user, action, value)

    async def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(query, self.database_url, sql, *params)

    async def count(self, sql: str, *params: Any) -> int:
        return int((await self.rows(sql, *params))[0][0])

    async def quiet(self, timeout: float = 60.0) -> None:
        """Wait until every queued Slack message is delivered (or failed) and none is in flight."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"):
            assert loop.time() < deadline, "the outbox did not drain"
            await asyncio.sleep(0.05)

    def outcome_dms(self, user: str, ref: str) -> list[str]:
        """Outcome messages ``user`` got about ``ref`` (approved, denied, cancelled, expired)."""
        words = ("was approved", "was denied", "was cancelled", "expired")
        return [m.text for m in self.slack.dms(user) if any(f"{ref} {w}" in m.text for w in words)]

    def logs(self) -> str:
        return "".join(r.log.read_text() for r in self.replicas if r.log.exists())


@asynccontextmanager
async def deployed(
    shape: str,
    tmp: Path,
    roster: str | Sequence[str] = ROSTER,
    users: Sequence[str] = USERS,
    slack: SlackStandIn | None = None,
    **settings: Any,
) -> AsyncIterator[Deployment]:
    """Start ``shape`` (one of SHAPES or MANY) with ``settings`` (and, given a list, each replica with
    its own roster file); stop it and check its logs afterwards."""
    backend = "sqlite" if shape.startswith("sqlite") else "postgresql"
    count = 2 if shape.endswith(("2-replicas", "2-processes")) else 1
    own = slack is None
    if slack is None:
        slack = SlackStandIn(users=list(users), channels=[SUMMARY])
        await slack.start()
    rosters = [roster] * count if isinstance(roster, str) else list(roster)
    try:
        for url in backends.database_url(backend, tmp):
            replicas = []
            for i in range(count):
                home = tmp / f"replica{i}"
                home.mkdir()
                (home / "roster.yml").write_text(rosters[i])
                replicas.append(BotProcess(home, slack, DATABASE_URL=url, **settings))
            for replica in replicas:
                await replica.start()
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
            try:
                yield Deployment(slack, url, replicas, session)
            finally:
                await session.close()
                codes = [r.stop() for r in replicas]
            logs = "".join(r.log.read_text() for r in replicas)
            assert codes == [0] * count, logs[-3000:]
            assert "Traceback" not in logs, logs[-3000:]
    finally:
        if own:
            await slack.stop()


async def each(rounds: int, parallel: int, one: Callable[[int], Any]) -> list[Any]:
    """Run ``one(i)`` for i in range(rounds), ``parallel`` at a time; returns the results in order."""
    limit = asyncio.Semaphore(parallel)

    async def run(i: int) -> Any:
        async with limit:
            return await one(i)

    return list(await asyncio.gather(*(run(i) for i in range(rounds))))

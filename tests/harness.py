"""Starts the real bot against the Slack stand-in, on a real SQLite file, over real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Signoff, build
from bot.clock import MovableClock, SystemClock
from bot.config import load_settings
from bot.domain.models import ChangeRequest
from bot.domain.timestamps import utc_text
from bot.sandbox.slack_standin import APP_TOKEN, BOT_TOKEN, SlackStandIn
from bot.services import queries
from bot.slack import ids
from tests import db
from tests.fakes.driver import SlackDriver, form_values
from tests.fakes.signing import SIGNING_SECRET

SUMMARY = "C0SIGNOFF"
ROSTER = """\
admins: [U0ADMIN1]
engineers:
  - {user: U0JUNIOR1, level: junior, team: payments}
  - {user: U0JUNIOR2, level: junior, team: platform}
  - {user: U0MID1, level: mid, team: payments}
  - {user: U0SENIOR1, level: senior, team: payments}
  - {user: U0SENIOR2, level: senior, team: platform}
  - {user: U0STAFF1, level: staff, team: platform}
"""
CI_TOKEN = "ci-token-0123456789abcdefghijklmnop"
DEPLOY_TOKEN = "deploy-token-0123456789abcdefghijkl"
# The database ``running`` uses when a test names none: tests/scenario runs every test on each backend.
DATABASE: dict[str, str | None] = {"url": None}
USERS = ["U0JUNIOR1", "U0JUNIOR2", "U0MID1", "U0SENIOR1", "U0SENIOR2", "U0STAFF1", "U0ADMIN1", "U0NOBODY"]
# The display names Slack gives them (users.info): what the CLI and the API name people by.
NAMES = {
    "U0JUNIOR1": "June Junior",
    "U0JUNIOR2": "Jules Junior",
    "U0MID1": "Mika Mid",
    "U0SENIOR1": "Sara Senior",
    "U0SENIOR2": "Sean Senior",
    "U0STAFF1": "Stella Staff",
    "U0ADMIN1": "Ada Admin",
    "U0NOBODY": "Gus Guest",
}


def stand_in() -> SlackStandIn:
    """The Slack stand-in with the tests' people and their display names."""
    slack = SlackStandIn(users=USERS, channels=[SUMMARY])
    slack.names.update(NAMES)
    return slack


_REF = re.compile(r"\*(CR-\d+)\*")


def settings_env(tmp: Path, slack: SlackStandIn, **overrides: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": None,
        "SLACK_API_URL": slack.api_url,
        "HOST": "127.0.0.1",
        "PORT": 0,
        "DATABASE_URL": DATABASE["url"] or f"sqlite:///{tmp / 'signoff.db'}",
        "ROSTER_FILE": str(tmp / "roster.yml"),
        "SUMMARY_CHANNEL": SUMMARY,
        "POLICY_DAYS": 90,
        "TIMEZONE": "UTC",
        "LOG_LEVEL": "INFO",
        "API_TOKENS": f"ci:{CI_TOKEN},deploybot:{DEPLOY_TOKEN}",
    }
    env.update(overrides)
    return env


@dataclass
class Harness:
    slack: SlackStandIn
    bot: Signoff
    driver: SlackDriver
    clock: MovableClock
    session: aiohttp.ClientSession
    tmp: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.bot.port}"

    async def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = CI_TOKEN,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        """Call the pipeline API; returns (status, parsed JSON body)."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        async with self.session.request(method, f"{self.url}{path}", data=data, headers=all_headers) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    async def fetchone(self, sql: str, params: Any = ()) -> Any:
        """A raw read straight from the bot's database (rows by position or name)."""
        return await db.fetchone(self.bot.settings.database, sql, params)

    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]:
        return await db.fetchall(self.bot.settings.database, sql, params)

    async def settle(self) -> None:
        """Let the outbox deliver everything that is due and finish after-ack UI work."""
        for _ in range(3):
            await self.bot.scheduler.idle()  # e.g. a policy end an admin just asked for
            await self.bot.groups.idle()
            await self.bot.background.idle()
            await self.bot.outbox.drain()
            await self.bot.sequencer.turn()  # the audit rows written so far are chained

    async def tick(self) -> None:
        """Run every time-driven sweep once at the clock's current time, then deliver."""
        await self.bot.scheduler.tick()
        await self.settle()

    async def add_reviewer(self, ref: str, user: str, approvals_needed: int = 2) -> None:
        """Give a request ``user`` as a second active reviewer (as a two-senior policy would)."""
        request_id = int(ref.removeprefix("CR-"))
        async with self.bot.store.write() as tx:
            await tx.requests.require_approvals(request_id, approvals_needed)
            await tx.assignments.assign(request_id, user, self.clock.now(), "routed")

    async def assert_reviewer_stats_consistent(self) -> None:
        """The trigger-kept reviewer load (stats plus the ledger not yet folded, and again after a
        fold) agrees with the assignments it summarises."""
        truth = await self.fetchall(
            "SELECT reviewer, SUM(active) AS open, MAX(assigned_at) AS last FROM assignments"
            " GROUP BY reviewer ORDER BY reviewer"
        )
        want_open = {r[0]: int(r[1]) for r in truth if int(r[1])}
        want_last = {r[0]: r[2] for r in truth}
        for _ in range(2):
            async with self.bot.store.read() as r:
                load, last = await r.assignments.load(want_last)
            assert load == want_open
            assert {k: utc_text(v) for k, v in last.items()} == want_last
            async with self.bot.store.write() as tx:
                await tx.assignments.fold_load(100_000)

    def channel_posts(self) -> list[str]:
        return [m.text for m in self.slack.posts_in(SUMMARY)]

    async def audit_actions(self, action: str) -> int:
        row = await self.fetchone("SELECT COUNT(*) FROM audit WHERE action = ?", (action,))
        assert row is not None
        return int(row[0])

    async def ask(self, user: str = "U0JUNIOR1", **form: Any) -> str:
        """Submit the request form; returns the id the person sees, like CR-1."""
        reply = await self.driver.submit(user, ids.REQUEST_FORM, form_values(**form))
        assert reply.status == 200, reply.text
        body = reply.json()
        assert body["response_action"] == "update", body
        match = _REF.search(body["view"]["blocks"][0]["text"]["text"])
        assert match, body
        await self.settle()
        return match.group(1)

    async def approve_all(self, ref: str) -> None:
        """Every senior the request is assigned to clicks Approve in their DM."""
        await self.settle()
        _, body = await self.api("GET", f"/api/v1/requests/{ref}")
        for reviewer in body["reviewers"]:
            await self.driver.click(reviewer, ids.APPROVE, ref.removeprefix("CR-"))
        await self.settle()

    async def count_requests(self) -> int:
        return int((await self.fetchone("SELECT COUNT(*) FROM requests"))[0])

    async def get(self, ref: str) -> ChangeRequest:
        return await queries.get_request(self.bot.deps, int(ref.removeprefix("CR-")))

    async def report(self, user: str = "U0ADMIN1") -> str:
        """`/signoff report` as ``user`` reads it: answered at once, the report following in the
        same conversation (its text and every block's text)."""
        answer = (await self.driver.command(user, "report")).json()
        assert answer["text"].startswith("Putting the report for the policy period together"), answer
        seen = len(self.slack.ephemerals)
        await self.settle()
        mine = [e for e in self.slack.ephemerals[seen:] if self.slack.response_owners.get(e.url_id) == user]
        assert len(mine) == 1, [e.text for e in self.slack.ephemerals]
        blocks = mine[0].body.get("blocks") or []
        return "\n".join([mine[0].text, *(b["text"]["text"] for b in blocks if "text" in b)])

    def review_dm(self, reviewer: str, ref: str) -> Any:
        found = [m for m in self.slack.dms(reviewer) if m.text.startswith(f"{ref} needs your sign-off")]
        assert len(found) == 1, [m.text for m in self.slack.dms(reviewer)]
        return found[0]


@asynccontextmanager
async def fake_slack() -> AsyncIterator[SlackStandIn]:
    """A Slack stand-in that outlives several bot runs (restarts)."""
    slack = stand_in()
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


@asynccontextmanager
async def running(
    tmp: Path,
    roster: str = ROSTER,
    clock: MovableClock | None = None,
    slack: SlackStandIn | None = None,
    real_clock: bool = False,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    own_slack = slack is None
    if slack is None:
        slack = stand_in()
        await slack.start()
    roster_path = tmp / "roster.yml"
    if not roster_path.exists():
        roster_path.write_text(roster)
    clock = clock or MovableClock(datetime.now(UTC))
    overrides.setdefault("POLICY_START", (clock.now() - timedelta(days=1)).isoformat())
    settings = load_settings(_env_file=None, **settings_env(tmp, slack, **overrides))
    bot = build(settings, clock=SystemClock() if real_clock else clock)
    await bot.start()
    session = aiohttp.ClientSession()
    try:
        h = Harness(slack, bot, SlackDriver(f"http://127.0.0.1:{bot.port}", slack, session), clock, session, tmp)
        await h.settle()  # a fresh install's welcome post is out before the test begins
        yield h
    finally:
        await session.close()
        await bot.stop()
        if own_slack:
            await slack.stop()


__all__ = ["APP_TOKEN", "Harness", "running"]

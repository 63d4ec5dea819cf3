"""One roster on every replica: a user-group change that reaches one replica is in force on the
others (a leaver's Approve is refused everywhere and their reviews move), and replicas whose
roster files differ say so. Runs with two processes on one SQLite file and two replicas on one
PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.sandbox.slack_standin import SlackStandIn
from bot.slack import ids
from tests.deployments import MANY, ROSTER, Deployment, deployed
from tests.harness import SUMMARY

GROUPED = """\
admins: [U0ADMIN1]
engineers:
  - {user: U0JUNIOR1, level: junior, team: payments}
groups:
  - {usergroup: S0SENIORS, level: senior, team: payments}
"""
USERS = ["U0JUNIOR1", "U0ADMIN1", "U0GRP1", "U0GRP2"]


@pytest.fixture(params=MANY)
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def roster_text(d: Deployment, replica: int) -> str:
    reply = (await d.driver(replica).command("U0ADMIN1", "roster")).json()
    return "\n".join(b["text"]["text"] for b in reply["blocks"])


async def eventually(check: object, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():  # type: ignore[operator]
        assert loop.time() < deadline, what
        await asyncio.sleep(0.1)


async def test_a_group_leaver_is_no_senior_on_any_replica(shape: str, tmp_path: Path) -> None:
    slack = SlackStandIn(users=USERS, channels=[SUMMARY])
    slack.usergroups = {"S0SENIORS": {"handle": "seniors", "users": ["U0GRP1", "U0GRP2"]}}
    await slack.start()
    try:
        async with deployed(shape, tmp_path, roster=GROUPED, slack=slack) as d:
            created = await d.create("U0JUNIOR1", replica=1)
            (leaver,) = created["reviewers"]
            stays = ({"U0GRP1", "U0GRP2"} - {leaver}).pop()
            slack.usergroups["S0SENIORS"]["users"] = [stays]
            event = {"type": "subteam_members_changed", "subteam_id": "S0SENIORS"}
            assert (await d.driver(0).event(event)).status == 200  # Slack tells replica 0 only

            async def gone_on_replica_1() -> bool:
                return f"<@{leaver}>" not in await roster_text(d, 1)

            await eventually(gone_on_replica_1, "replica 1 still lists the leaver")
            assert (await d.click(leaver, ids.APPROVE, created["id"][3:], replica=1)).status == 200
            await d.quiet()
            _, answer = await d.api("GET", f"/api/v1/requests/{created['id']}", replica=1)
            assert (answer["status"], answer["reviewer"]) == ("pending", stays)
            refused = await d.rows("SELECT reason FROM audit WHERE actor = ? AND action = 'refused'", leaver)
            assert refused == [("not_reviewer",)]
            assert len([m for m in slack.dms(stays) if m.text.startswith(f"{created['id']} needs")]) == 1
    finally:
        await slack.stop()


EXTRA = "  - {user: U0SENIOR9, level: senior, team: data}\n"


async def test_replicas_whose_roster_files_differ_say_so(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path, roster=[ROSTER, ROSTER + EXTRA]) as d:

        async def both_see_it() -> bool:
            for replica in d.replicas:
                async with d.session.get(f"{replica.url}/readyz") as resp:
                    body = await resp.json()
                    if resp.status != 200 or body["roster"]["agree"] or len(body["roster"]["replicas"]) != 2:
                        return False
            return True

        await eventually(both_see_it, "the replicas did not notice their roster files differ")
        text = await roster_text(d, 0)
        assert "Replicas: 1 of 2 replicas read a different roster file" in text
        assert "copy the same file to every replica" in text
    assert "read a different roster file" in d.logs()

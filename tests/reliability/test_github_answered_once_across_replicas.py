"""Two `signoff serve` replicas on one PostgreSQL database, each running the GitHub worker, with
every deployment's webhook delivered to both (as a load balancer retrying, or a redelivery
would): each deployment makes one request and GitHub gets exactly one answer for each run,
never a second one it would refuse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.sandbox.github_standin import GitHubStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver
from tests.harness import CI_TOKEN, stand_in
from tests.process import BotProcess
from tests.scenario.test_github_holds_deployments import AI_COMMIT, GITHUB_ROSTER

PLAIN = 8  # deployments that need no sign-off: answered at once, by whichever replica claims them
HELD = 4  # AI-assisted ones, approved in Slack through one replica


async def test_two_replicas_answer_each_deployment_once(tmp_path: Path, postgres_url: str) -> None:
    slack = stand_in()
    await slack.start()
    gh = GitHubStandIn()
    await gh.start()
    replicas = []
    for i in range(2):
        home = tmp_path / f"r{i}"
        home.mkdir()
        (home / "roster.yml").write_text(GITHUB_ROSTER)
        replicas.append(BotProcess(home, slack, DATABASE_URL=postgres_url, **gh.settings()))
    try:
        for replica in replicas:
            await replica.start()
        async with aiohttp.ClientSession() as session:
            runs = []
            for n in range(PLAIN + HELD):
                gh.add_commit(AI_COMMIT if n >= PLAIN else f"Plain change {n}")
                runs.append(gh.deploy())
            deliveries = [gh.deliver(session, r.url, run) for run in runs for r in replicas]
            answers = await asyncio.gather(*deliveries)
            assert sorted(status for status, _ in answers) == [202] * len(deliveries)

            await _until(lambda: all(run.answers for run in runs[:PLAIN]), "the plain deployments' answers")
            await _until(lambda: all(run.reports for run in runs[PLAIN:]), "the held deployments' reports")
            driver = SlackDriver(replicas[0].url, slack, session)
            for run in runs[PLAIN:]:
                ref = await _ref_of(session, replicas[1].url, run.deployment_id, postgres_url)
                async with session.get(
                    f"{replicas[1].url}/api/v1/requests/{ref}", headers={"Authorization": f"Bearer {CI_TOKEN}"}
                ) as resp:
                    body = await resp.json()
                for reviewer in body["reviewers"]:
                    await driver.click(reviewer, ids.APPROVE, ref.removeprefix("CR-"))
            await _until(lambda: all(run.answers for run in runs), "every answer")
            await asyncio.sleep(1.5)  # both workers have looked again: nothing more is sent
    finally:
        for replica in replicas:
            replica.stop()
        await gh.stop()
        await slack.stop()
    assert [len(run.answers) for run in runs] == [1] * (PLAIN + HELD)
    assert [run.answers[0]["state"] for run in runs] == ["approved"] * (PLAIN + HELD)
    assert "This deployment protection rule was already reviewed" not in gh.refusals
    assert gh.calls.count("review") == PLAIN + HELD + sum(len(run.reports) for run in runs)


async def _ref_of(session: aiohttp.ClientSession, url: str, deployment_id: int, database: str) -> str:
    import psycopg

    async with await psycopg.AsyncConnection.connect(database) as conn:
        cur = await conn.execute("SELECT request_id FROM github_deployments WHERE deployment_id = %s", (deployment_id,))
        row = await cur.fetchone()
    assert row is not None and row[0] is not None
    return f"CR-{row[0]}"


async def _until(done: object, what: str, seconds: float = 60) -> None:
    assert callable(done)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not done():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)

"""signoff as a GitHub App, the deployment protection rule of a `production` environment: GitHub
holds the deployment job until signoff answers. A deployment is a request asked by whoever
started it (their GitHub login in the roster), AI-assisted when its commits say so; GitHub gets
exactly one answer when the request ends (approved, denied with the reason, expired, not
required), and a few status reports while it waits. A forged webhook stores nothing, a replayed
one makes no second request, and a lost one is found by the sweep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.domain.errors import ConfigurationError
from bot.sandbox.github_standin import GitHubStandIn, Run, key_pair
from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import ROSTER, Harness, running, settings_env, stand_in
from tests.scenario.test_openapi_is_true import check

GITHUB_ROSTER = (
    ROSTER.replace("{user: U0JUNIOR1, level: junior, team: payments}",
                   "{user: U0JUNIOR1, level: junior, team: payments, github: june-j}")
    .replace("{user: U0SENIOR1, level: senior, team: payments}",
             "{user: U0SENIOR1, level: senior, team: payments, github: Sara-S}")
)  # fmt: skip
AI_COMMIT = "Make the cache bigger\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"


@pytest.fixture
async def gh() -> AsyncIterator[GitHubStandIn]:
    github = GitHubStandIn()
    await github.start()
    try:
        yield github
    finally:
        await github.stop()


@pytest.fixture
async def h(tmp_path: Path, gh: GitHubStandIn) -> AsyncIterator[Harness]:
    async with running(tmp_path, roster=GITHUB_ROSTER, **gh.settings()) as harness:
        yield harness


async def until(h: Harness, done: Callable[[], object], what: str, seconds: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not done():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        assert h.bot.deployments is not None
        h.bot.deployments.wake()
        await asyncio.sleep(0.05)
    await h.settle()


async def held(h: Harness, gh: GitHubStandIn, run: Run) -> None:
    status, body = await gh.deliver(h.session, h.url, run)
    assert status == 202, body
    await until(h, lambda: bool(run.reports) or bool(run.answers), "the first word to GitHub")


async def test_a_deployment_is_held_until_seniors_approve_then_released(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy(creator="june-j")
    await held(h, gh, run)
    assert run.answers == []  # held
    assert run.reports == ["signoff CR-1: 0 of 2 senior approvals so far."]
    req = await h.get("CR-1")
    assert req.requester == "U0JUNIOR1" and req.draft.ai_assisted and req.draft.ai_tool == "Claude"
    assert (req.draft.service, req.draft.environment, req.source) == ("acme/shop", "production", "github")
    assert req.draft.url.endswith(f"/acme/shop/actions/runs/{run.run_id}")
    _, doc = await h.api("GET", "/api/v1/openapi.json", token=None)
    status, answer = await h.api("GET", "/api/v1/requests/CR-1")
    check(doc, "/api/v1/requests/{id}", "GET", status, answer)  # the API describes GitHub's requests too
    assert answer["source"] == "github"

    await h.approve_all("CR-1")
    await until(h, lambda: bool(run.answers), "GitHub's answer")
    assert run.answers == [{"state": "approved", "comment": run.answers[0]["comment"]}]
    comment = run.answers[0]["comment"]
    assert comment.startswith("signoff CR-1: approved by ") and "Sara Senior" in comment and "U0" not in comment
    for _ in range(3):  # more commits and wake-ups never answer again
        h.bot.deployments.wake() if h.bot.deployments else None
        await asyncio.sleep(0.05)
    assert len(run.answers) == 1 and "This deployment protection rule was already reviewed" not in gh.refusals


async def test_a_denial_rejects_with_the_seniors_reason(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy()
    await held(h, gh, run)
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    reason = reason_values("Not during the freeze")
    await h.driver.submit(body["reviewers"][0], ids.DENY_FORM, reason, private_metadata="1")
    await until(h, lambda: bool(run.answers), "GitHub's answer")
    assert run.answers[0]["state"] == "rejected"
    assert "denied by" in run.answers[0]["comment"] and "Not during the freeze" in run.answers[0]["comment"]


async def test_a_request_nobody_decides_expires_and_rejects(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy()
    await held(h, gh, run)
    h.clock.advance(timedelta(days=7, minutes=1))
    await h.bot.scheduler.tick()
    await until(h, lambda: bool(run.answers), "GitHub's answer")
    assert run.answers[0]["state"] == "rejected" and "CR-1" in run.answers[0]["comment"]


async def test_a_change_that_needs_no_sign_off_is_approved_at_once(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit("Fix a typo in the README")  # no AI markers
    run = gh.deploy(creator="june-j")
    await held(h, gh, run)
    assert run.answers[0]["state"] == "approved"
    assert run.answers[0]["comment"].startswith("signoff CR-1: no senior sign-off needed")
    assert not (await h.get("CR-1")).draft.ai_assisted


async def test_somebody_signoff_does_not_know_is_rejected_and_told_whom_to_add(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy(creator="mallory")
    await held(h, gh, run)
    assert run.answers[0]["state"] == "rejected"
    assert "does not know the GitHub user mallory" in run.answers[0]["comment"]
    assert "github: mallory" in run.answers[0]["comment"]
    assert await h.count_requests() == 0


async def test_a_forged_replayed_or_other_webhook_stores_nothing_more(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy()
    status, body = await gh.deliver(h.session, h.url, run, secret="not-the-secret")
    assert status == 401 and body["error"] == "Unauthenticated"
    status, _ = await gh.deliver(h.session, h.url, run, event="push")
    assert status == 204
    assert await h.fetchall("SELECT deployment_id FROM github_deployments") == []
    assert await h.audit_actions("refused") == 1  # the forged one, like a bad token

    await held(h, gh, run)
    status, body = await gh.deliver(h.session, h.url, run)  # GitHub's redelivery, or a replay
    assert status == 202 and body["new"] is False
    await h.settle()
    assert await h.count_requests() == 1 and await h.audit_actions("deployment_held") == 1

    bad = b'{"action": "requested", "deployment": {"id": "x"}}'
    status, body = await gh.deliver(h.session, h.url, run, body=bad)
    assert status == 422 and "deployment.id" in body["fields"]


async def test_an_answer_github_could_not_take_is_sent_again_once(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit("Fix a typo")
    run = gh.deploy()
    gh.fail_next["review"] = [503, 502]  # GitHub is down when the answer goes out, twice
    status, _ = await gh.deliver(h.session, h.url, run)
    assert status == 202
    await until(h, lambda: gh.calls.count("review") == 1, "the first try")
    row = await h.fetchone("SELECT attempts, answer FROM github_deployments")
    assert (row[0], row[1], run.answers) == (1, None, [])  # not answered, and it says so
    for _ in range(2):
        h.clock.advance(timedelta(minutes=5))  # past the backoff, on the bot's clock
        h.bot.deployments.wake() if h.bot.deployments else None
        await asyncio.sleep(0.3)
    await until(h, lambda: bool(run.answers), "GitHub's answer")
    assert len(run.answers) == 1 and run.answers[0]["state"] == "approved"
    assert gh.calls.count("review") == 3


async def test_an_installation_token_github_no_longer_takes_is_replaced(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy()
    await held(h, gh, run)
    for token, (installation, _) in list(gh.tokens.items()):
        gh.tokens[token] = (installation, 0.0)  # revoked, as an hour-old token is
    await h.approve_all("CR-1")
    await until(h, lambda: bool(run.answers), "GitHub's answer")
    assert run.answers[0]["state"] == "approved"
    assert "Bad credentials: the token expired" in gh.refusals  # refused once, then a fresh token


async def test_a_lost_webhook_is_found_by_the_sweep(h: Harness, gh: GitHubStandIn) -> None:
    gh.add_commit(AI_COMMIT)
    run = gh.deploy()  # GitHub never delivers its webhook
    assert h.bot.deployments is not None
    assert await h.bot.deployments.sweep() == 1
    assert await h.bot.deployments.sweep() == 0  # found once
    await until(h, lambda: bool(run.reports), "a status report")
    assert await h.count_requests() == 1
    await h.approve_all("CR-1")
    await until(h, lambda: bool(run.answers), "GitHub's answer")
    assert run.answers[0]["state"] == "approved"


def test_the_github_settings_are_all_or_none_and_checked_at_start(tmp_path: Path) -> None:
    slack = stand_in()
    base = settings_env(tmp_path, slack)
    (tmp_path / "roster.yml").write_text(ROSTER)
    with pytest.raises(ConfigurationError) as missing:
        load_settings(_env_file=None, **base, GITHUB_APP_ID=1, GITHUB_WEBHOOK_SECRET="s")
    assert missing.value.setting == "GITHUB_APP_PRIVATE_KEY"
    not_a_key = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
    with pytest.raises(ConfigurationError) as bad_key:
        load_settings(
            _env_file=None, **base, GITHUB_APP_ID=1, GITHUB_WEBHOOK_SECRET="s", GITHUB_APP_PRIVATE_KEY=not_a_key
        )
    assert bad_key.value.setting == "GITHUB_APP_PRIVATE_KEY"
    key_file = tmp_path / "app.pem"
    key_file.write_text(key_pair()[0])
    settings = load_settings(
        _env_file=None, **base, GITHUB_APP_ID=1, GITHUB_WEBHOOK_SECRET="s", GITHUB_APP_PRIVATE_KEY=str(key_file)
    )
    assert settings.github_enabled and "BEGIN" not in repr(settings)

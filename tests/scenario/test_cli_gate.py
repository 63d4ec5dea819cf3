"""`signoff request` and `signoff status`, run as real processes against a running bot, exit
0 for approved or not required, 1 for denied, 2 for timeouts, and 3 for usage, auth and
network errors; a denial never exits 0."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bot.slack import ids
from tests.cli import ASK, finish, run, start
from tests.fakes.driver import reason_values
from tests.harness import Harness
from tests.process import free_port


async def test_wait_then_approve_exits_0(h: Harness) -> None:
    proc = await start(h, *ASK, "--ai-assisted", "--wait", "--timeout", "2m")
    await h.slack.wait_for(lambda: len(h.slack.dms("U0SENIOR1")) == 1, timeout=60)
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    result = await finish(proc)
    assert result.code == 0, result.err
    assert "CR-1: waiting for Sara Senior" in result.out
    assert "CR-1 approved by Sara Senior" in result.out
    assert "CR-1: waiting for Sara Senior (waited" in result.err


async def test_wait_then_deny_exits_1_with_the_reason(h: Harness) -> None:
    proc = await start(h, *ASK, "--ai-assisted", "--wait")
    await h.slack.wait_for(lambda: len(h.slack.dms("U0SENIOR1")) == 1, timeout=60)
    await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("No load test"), private_metadata="1")
    result = await finish(proc)
    assert result.code == 1
    assert "CR-1 DENIED by Sara Senior: No load test" in result.out
    status = await run(h, "status", "CR-1")
    assert status.code == 1


async def test_timeout_exits_2_and_pending_without_wait_is_not_a_pass(h: Harness) -> None:
    result = await run(h, *ASK, "--ai-assisted", "--wait", "--timeout", "2s")
    assert result.code == 2
    assert "CR-1 timed out after 2s: not approved; it expired, so nobody reviews it now" in result.out
    assert (await run(h, *ASK, "--ai-assisted")).code == 2
    assert (await run(h, "status", "CR-1", "--wait", "--timeout", "1s")).code == 2


async def test_not_required_exits_0(h: Harness) -> None:
    result = await run(h, *ASK, "--no-ai-assisted", "--wait")
    assert result.code == 0
    assert "sign-off was not required: it was not written with AI" in result.out


async def test_unreachable_server_bad_token_and_bad_usage_exit_3(h: Harness) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = await run(h, *ASK, "--ai-assisted", "--server", dead, "--retries", "1")
    assert result.code == 3
    assert f"cannot reach {dead}" in result.err and "Traceback" not in result.err
    result = await run(h, *ASK, "--ai-assisted", "--token", "nope-0123456789abcdefghijklmn")
    assert result.code == 3 and "signoff refused the token given with --token" in result.err
    assert "SIGNOFF_TOKEN" not in result.err  # it says which token it was
    result = await run(h, *ASK, "--ai-assisted", env={"SIGNOFF_TOKEN": "nope-0123456789abcdefghijklmn"})
    assert result.code == 3 and "signoff refused the token in SIGNOFF_TOKEN" in result.err
    result = await run(h, "request", "--title", "x", "--url", "not a link", "--requester", "U0JUNIOR1",
                       "--ai-assisted")  # fmt: skip
    assert result.code == 3 and "422" not in result.err, result.err
    assert result.err.startswith("signoff: signoff refused the request: url: must be an http:// or https:// link")
    result = await run(h, "request", "--title", "x", "--requester", "U0JUNIOR1", "--ai-assisted")
    assert result.code == 3 and "--url" in result.err
    result = await run(h, *ASK)
    assert result.code == 3 and "one of the arguments" in result.err
    result = await run(h, *ASK, "--ai-assisted", "--wait", "--timeout", "soon")
    assert result.code == 3 and "not a duration" in result.err
    result = await run(h, *ASK, "--ai-assisted", env={"SIGNOFF_URL": ""})
    assert result.code == 3 and "SIGNOFF_URL" in result.err
    rows = await h.fetchone("SELECT COUNT(*) FROM requests")
    assert rows is not None and rows[0] == 0


async def test_a_retried_ci_job_asks_once(h: Harness) -> None:
    env = {"GITHUB_RUN_ID": "987654"}
    first = await run(h, *ASK, "--ai-assisted", env=env)
    second = await run(h, *ASK, "--ai-assisted", env=env)
    other_run = await run(h, *ASK, "--ai-assisted", env={"GITHUB_RUN_ID": "987655"})
    assert first.out.splitlines()[0] == second.out.splitlines()[0] == "CR-1: waiting for Sara Senior"
    assert other_run.out.startswith("CR-2:")


async def test_from_git_fills_the_request_and_says_why(h: Harness, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    h.slack.add_email("j@example.com", "U0SENIOR2")  # the senior wrote it, with Claude
    git_env = {
        "GIT_AUTHOR_NAME": "J",
        "GIT_AUTHOR_EMAIL": "j@example.com",
        "GIT_COMMITTER_NAME": "J",
        "GIT_COMMITTER_EMAIL": "j@example.com",
        "HOME": str(tmp_path),
    }
    for args in (
        ["init", "-q"],
        ["commit", "-q", "--allow-empty", "-m", "Cache warmup\n\nCo-authored-by: Claude <noreply@anthropic.com>"],
    ):
        proc = await asyncio.create_subprocess_exec("git", *args, cwd=repo, env={**os.environ, **git_env})
        assert await proc.wait() == 0
    result = await run(
        h,
        "request",
        "--url",
        "https://git.example.com/mr/10",
        "--requester",
        "U0SENIOR2",
        "--from-git",
        "HEAD",
        "--not-destructive",
        cwd=repo,
    )
    assert "AI assistance detected in HEAD:" in result.err
    assert "Co-authored-by: Claude <noreply@anthropic.com>" in result.err
    req = await h.get("CR-1")
    assert req.draft.title == "Cache warmup" and req.draft.ai_assisted and req.draft.ai_tool == "Claude"
    assert req.draft.authors == ("U0SENIOR2",) and len(req.draft.commit) == 40
    assert result.code == 0  # a senior's own change that destroys nothing is recorded, not gated

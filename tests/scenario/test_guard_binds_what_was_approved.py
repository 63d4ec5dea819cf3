"""`signoff guard` asks for exactly one command in exactly one directory, and an approval is for
that alone: the reviewer's DM shows both whatever the description says, another command or
another directory in the same CI run asks again, and the server refuses to verify anything else.
Under an AI agent the agent cannot lower its own bar; a re-run after a request ended without a
usable approval asks again and names the earlier request; a command that does not exist asks
nobody; credentials are released only after the approval, into the command's environment alone."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
from pathlib import Path
from typing import Any

from bot.slack import ids
from tests.cli import ASK, Run, finish, run, start
from tests.fakes.driver import reason_values
from tests.fakes.held_answers import HeldAnswers
from tests.harness import Harness

GUARD = ("guard", "--title", "Apply the network change", "--url", "https://git.example.com/mr/31")
JUNIOR = {"SIGNOFF_REQUESTER": "U0JUNIOR1"}
AGENT = {**JUNIOR, "CLAUDECODE": "1"}


def all_text(message: Any) -> str:
    """A Slack message as a person reads it: its text and every block's text."""
    parts = [message.text]
    for block in message.blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements") or block.get("fields") or []:
            if isinstance(element, dict) and "text" in element:
                parts.append(element["text"] if isinstance(element["text"], str) else element["text"]["text"])
    return "\n".join(parts)


async def asked_for(h: Harness, ref: str) -> None:
    await h.slack.wait_for(
        lambda: any(m.text.startswith(f"{ref} needs your sign-off") for u in h.slack.users for m in h.slack.dms(u)),
        timeout=60,
    )


async def guard_approved(h: Harness, *args: str, env: dict[str, str], cwd: Path, ref: str) -> Run:
    proc = await start(h, *GUARD, *args, env=env, cwd=cwd)
    await asked_for(h, ref)
    await h.approve_all(ref)
    return await finish(proc)


async def test_the_dm_shows_the_command_and_directory_whatever_the_description_says(h: Harness) -> None:
    marker = h.tmp / "ran"
    command = ["touch", str(marker)]
    result = await guard_approved(
        h, "--ai-assisted", "--description", "Just a harmless tidy-up", "--", *command,
        env=JUNIOR, cwd=h.tmp, ref="CR-1",
    )  # fmt: skip
    assert result.code == 0, result.err
    req = await h.get("CR-1")
    assert (req.draft.command, req.draft.workdir) == (shlex.join(command), str(h.tmp.resolve()))
    dm = all_text(h.review_dm(req.reviewer or "", "CR-1"))
    assert shlex.join(command) in dm and str(h.tmp.resolve()) in dm and "Just a harmless tidy-up" in dm


async def test_another_command_in_the_same_run_asks_again(h: Harness) -> None:
    run_env = {**JUNIOR, "SIGNOFF_RUN_ID": "run-77"}
    first = await guard_approved(h, "--ai-assisted", "--", "true", env=run_env, cwd=h.tmp, ref="CR-1")
    assert first.code == 0, first.err
    other = h.tmp / "other-ran"
    proc = await start(h, *GUARD, "--ai-assisted", "--timeout", "3s", "--", "touch", str(other), env=run_env, cwd=h.tmp)
    result = await finish(proc)
    assert result.code == 2 and not other.exists()  # a new request, still waiting: not run on CR-1's approval
    assert "CR-2" in result.out
    assert (await h.get("CR-2")).draft.command == shlex.join(["touch", str(other)])


async def test_the_same_command_in_another_directory_asks_again(h: Harness) -> None:
    staging, prod = h.tmp / "staging", h.tmp / "prod"
    staging.mkdir()
    prod.mkdir()
    run_env = {**JUNIOR, "SIGNOFF_RUN_ID": "run-78"}
    first = await guard_approved(h, "--ai-assisted", "--", "true", env=run_env, cwd=staging, ref="CR-1")
    assert first.code == 0, first.err
    elsewhere = await run(h, *GUARD, "--ai-assisted", "--timeout", "3s", "--", "true", env=run_env, cwd=prod)
    assert elsewhere.code == 2 and "CR-2" in elsewhere.out
    assert (await h.get("CR-2")).draft.workdir == str(prod.resolve())


async def test_the_server_verifies_only_the_approved_command_and_directory(h: Harness) -> None:
    result = await guard_approved(h, "--ai-assisted", "--", "true", env=JUNIOR, cwd=h.tmp, ref="CR-1")
    assert result.code == 0, result.err
    workdir = str(h.tmp.resolve())
    # guard used the approval up for its own run; anything else is not what was approved at all
    cases = [("true", workdir, "used"), ("false", workdir, "other_command"), ("true", "/srv/prod", "other_command")]
    for command, where, expected in cases:
        status, body = await h.api("POST", "/api/v1/requests/CR-1/verify", {"command": command, "workdir": where})
        assert (status, body["result"]) == (200, expected), body
    status, body = await h.api("POST", "/api/v1/requests/CR-1/verify", {"command": "", "workdir": workdir})
    assert status == 422 and "command" in body["fields"]


async def test_an_agent_cannot_lower_its_own_bar(h: Harness) -> None:
    marker = h.tmp / "ran"
    lowered = await run(
        h, *GUARD, "--no-ai-assisted", "--requester", "U0SENIOR1", "--", "touch", str(marker), env=AGENT, cwd=h.tmp
    )
    assert lowered.code == 3 and "the requester is SIGNOFF_REQUESTER" in lowered.err
    assert not marker.exists() and not await h.fetchall("SELECT id FROM requests")

    glass = await run(h, *GUARD, "--ai-assisted", "--break-glass", "urgent", "--", "true", env=AGENT, cwd=h.tmp)
    assert glass.code == 3 and "cannot break glass" in glass.err

    proc = await start(
        h, *GUARD, "--no-ai-assisted", "--not-destructive", "--timeout", "3s", "--", "kubectl", "delete", "ns", "x",
        env={**AGENT, "PATH": f"{await _fake_tools(h)}:/usr/bin:/bin"}, cwd=h.tmp,
    )  # fmt: skip
    result = await finish(proc)
    assert result.code == 2, (result.out, result.err)  # asked and waited: not "not required"
    req = await h.get("CR-1")
    assert req.draft.ai_assisted and req.draft.destroys is True and req.approvals_needed == 2
    assert "the request is AI-assisted" in result.err and "--not-destructive is not taken" in result.err


async def _fake_tools(h: Harness) -> Path:
    """A directory with a `kubectl` that only says it ran, for commands that must exist."""
    tools = h.tmp / "tools"
    tools.mkdir(exist_ok=True)
    kubectl = tools / "kubectl"
    kubectl.write_text('#!/bin/sh\necho kubectl ran "$@"\n')
    kubectl.chmod(0o755)
    return tools


async def test_a_command_that_does_not_exist_asks_nobody(h: Harness) -> None:
    result = await run(h, *GUARD, "--ai-assisted", "--", "no-such-tool-here", "apply", env=JUNIOR, cwd=h.tmp)
    assert result.code == 127 and "no such command; nobody was asked" in result.err
    assert not await h.fetchall("SELECT id FROM requests")


async def test_a_rerun_asks_again_after_a_timeout_and_after_a_denial(h: Harness) -> None:
    run_env = {**JUNIOR, "SIGNOFF_RUN_ID": "run-90"}
    timed_out = await run(h, *GUARD, "--ai-assisted", "--timeout", "2s", "--", "true", env=run_env, cwd=h.tmp)
    assert timed_out.code == 2 and (await h.get("CR-1")).status.value == "expired"

    proc = await start(h, *GUARD, "--ai-assisted", "--", "true", env=run_env, cwd=h.tmp)
    await asked_for(h, "CR-2")
    req = await h.get("CR-2")
    assert req.draft.asked_again_after == "CR-1"
    dm = all_text(h.review_dm(req.reviewer or "", "CR-2"))
    assert "Asked again: CR-1 ended without an approval" in dm
    await h.driver.submit(req.reviewer or "", ids.DENY_FORM, reason_values("Not today"), private_metadata="2")
    denied = await finish(proc)
    assert denied.code == 1 and "CR-1 expired; asking again" in denied.err

    again = await run(h, *GUARD, "--ai-assisted", "--timeout", "2s", "--", "true", env=run_env, cwd=h.tmp)
    assert again.code == 2 and "CR-2 was denied; asking again" in again.err
    third = await h.get("CR-3")
    assert third.draft.asked_again_after == "CR-2"
    rows = await h.fetchall("SELECT COUNT(*) FROM requests")
    assert rows[0][0] == 3  # a re-run finds the chain's newest request; nothing more was made


async def test_a_pending_request_is_found_again_by_a_rerun(h: Harness) -> None:
    run_env = {**JUNIOR, "SIGNOFF_RUN_ID": "run-91"}
    first = await run(h, "request", "--title", "t", "--url", "https://x.example/1", "--ai-assisted", env=run_env)
    second = await run(h, "request", "--title", "t", "--url", "https://x.example/1", "--ai-assisted", env=run_env)
    assert first.code == second.code == 2
    assert "CR-1" in first.out and "CR-1" in second.out
    assert "asking again" not in second.err


async def test_credentials_are_released_only_after_approval_and_only_to_the_command(h: Harness) -> None:
    secret = "s3cr3t-Value-9f8e7d"
    fetched = h.tmp / "fetched"
    creds = f"touch {fetched}; printf 'DEPLOY_TOKEN={secret}\\nexport REGION=eu-west-1\\n'"
    seen = h.tmp / "seen"
    command = ["sh", "-c", f'printf "%s %s" "$DEPLOY_TOKEN" "$REGION" > {seen}']

    proc = await start(h, *GUARD, "--ai-assisted", "--credentials", creds, "--", *command, env=JUNIOR, cwd=h.tmp)
    await asked_for(h, "CR-1")
    assert not fetched.exists()  # nothing fetched while the request waits
    await h.approve_all("CR-1")
    result = await finish(proc)
    assert result.code == 0, result.err
    assert seen.read_text() == f"{secret} eu-west-1"
    assert secret not in result.out + result.err
    assert "credentials for the command: DEPLOY_TOKEN, REGION" in result.err
    audit = json.dumps([list(r) for r in await h.fetchall("SELECT reason, details FROM audit")])
    assert secret not in audit

    denied_fetch = h.tmp / "fetched-on-denial"
    proc = await start(
        h, *GUARD, "--ai-assisted", "--credentials", f"touch {denied_fetch}; echo A=b", "--", "true",
        env=JUNIOR, cwd=h.tmp,
    )  # fmt: skip
    await asked_for(h, "CR-2")
    req = await h.get("CR-2")
    await h.driver.submit(req.reviewer or "", ids.DENY_FORM, reason_values("No"), private_metadata="2")
    assert (await finish(proc)).code == 1
    assert not denied_fetch.exists()


async def test_a_failing_credentials_command_runs_nothing_and_exits_3(h: Harness) -> None:
    marker = h.tmp / "ran"
    for creds, words in (("exit 4", "failed (exit code 4)"), ("echo not credentials at all", "printed no credentials")):
        ref = f"CR-{len(await h.fetchall('SELECT id FROM requests')) + 1}"
        proc = await start(h, *GUARD, "--ai-assisted", "--credentials", creds, "--", "touch", str(marker), env=JUNIOR)
        await asked_for(h, ref)
        await h.approve_all(ref)
        result = await finish(proc)
        assert result.code == 3 and words in result.err, result.err
        assert "not credentials" not in result.err.replace("printed no credentials", "")
        assert not marker.exists()


async def test_a_signal_while_waiting_gives_the_request_up(h: Harness) -> None:
    """A cancelled CI job leaves no live request: nobody is reminded of a change that will not run."""
    proc = await start(h, *GUARD, "--ai-assisted", "--", "true", env=JUNIOR, cwd=h.tmp)
    await asked_for(h, "CR-1")
    proc.send_signal(signal.SIGTERM)
    result = await finish(proc)
    assert result.code == 128 + signal.SIGTERM
    assert "CR-1 was given up: guard stopped by SIGTERM" in result.out
    assert (await h.get("CR-1")).status.value == "expired"


async def test_a_signal_while_asking_gives_up_the_request_once_it_exists(h: Harness) -> None:
    """Stopped in the moment between the server creating the request and the answer arriving:
    the request is still given up, so a cancelled job leaves none behind."""
    for argv, env in (((*GUARD, "--ai-assisted", "--", "true"), JUNIOR), ((*ASK, "--ai-assisted", "--wait"), {})):
        relay = HeldAnswers(h.url, "POST /api/v1/requests")
        await relay.start()
        try:
            before = await h.count_requests()
            proc = await start(h, *argv, env={**env, "SIGNOFF_URL": relay.url}, cwd=h.tmp)
            await asyncio.wait_for(relay.held.wait(), 60)  # the request exists; its answer is held
            ref = f"CR-{before + 1}"
            assert (await h.get(ref)).status.value == "pending"
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)  # the signal lands while the answer is still held
            relay.released.set()
            result = await finish(proc)
        finally:
            await relay.stop()
        assert result.code == 128 + signal.SIGTERM, (argv[0], result)
        assert f"{ref} was given up" in result.out and "SIGTERM" in result.out, result.out
        assert (await h.get(ref)).status.value == "expired"

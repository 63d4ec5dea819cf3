"""`signoff hook claude-code`, run as a real process and fed the JSON Claude Code's PreToolUse
hooks get on stdin: a shell command that changes production becomes an AI-assisted request and
is allowed only once approved; everything else passes with no answer at all; anything wrong
denies with one line (fail closed), never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.sandbox import block_rules
from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import CI_TOKEN, Harness


@dataclass
class Answer:
    code: int
    decision: str | None  # allow | deny, or None: no answer (Claude Code's own permissions decide)
    reason: str
    err: str


def bash(command: str, session: str = "session-1", tool: str = "Bash") -> dict[str, Any]:
    """A PreToolUse input as Claude Code sends it."""
    return {
        "session_id": session,
        "transcript_path": "/home/dev/.claude/projects/shop/session-1.jsonl",
        "cwd": "/home/dev/shop",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {"command": command, "description": "Run it"},
    }


async def hook(
    h: Harness, payload: Any, timeout: str = "1s", env: dict[str, str] | None = None, raw: bytes | None = None
) -> Answer:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNOFF_", "CLAUDECODE"))}
    full_env.update(
        {
            "SIGNOFF_URL": h.url,
            "SIGNOFF_TOKEN": CI_TOKEN,
            "SIGNOFF_REQUESTER": "U0JUNIOR1",
            "SIGNOFF_HOOK_LINK": "https://git.example.com/acme/shop",
            **(env or {}),
        }
    )
    full_env = {k: v for k, v in full_env.items() if v}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "hook", "claude-code", "--timeout", timeout,
        env=full_env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    data = raw if raw is not None else json.dumps(payload).encode()
    out, err = await asyncio.wait_for(proc.communicate(data), timeout=120)
    assert proc.returncode is not None
    if not out.strip():
        return Answer(proc.returncode, None, "", err.decode())
    assert len(out.decode().strip().splitlines()) == 1, out
    reply = json.loads(out)["hookSpecificOutput"]
    assert reply["hookEventName"] == "PreToolUse"
    return Answer(proc.returncode, reply["permissionDecision"], reply["permissionDecisionReason"], err.decode())


async def test_other_tools_and_harmless_commands_pass_without_a_request(h: Harness) -> None:
    for payload in (
        {**bash("terraform apply"), "tool_name": "Edit", "tool_input": {"file_path": "main.tf"}},
        bash("ls -la && git status"),
        bash("terraform plan -out plan.tfplan"),
        bash("kubectl get pods -n prod"),
    ):
        answer = await hook(h, payload)
        assert (answer.code, answer.decision) == (0, None), answer
    assert await h.count_requests() == 0


async def test_a_held_command_waits_for_sign_off_and_then_is_allowed(h: Harness) -> None:
    command = "terraform -chdir=envs/prod apply -auto-approve"
    first = await hook(h, bash(command))
    assert (first.code, first.decision) == (0, "deny")
    assert first.reason.startswith("signoff: waiting for senior sign-off on CR-1: 2 more of 2 senior approvals")
    assert first.reason.endswith("; run it again once approved")
    assert "U0" not in first.reason

    req = await h.get("CR-1")
    assert req.draft.ai_assisted and req.draft.ai_tool == "Claude Code"
    assert (req.draft.command, req.draft.workdir) == (command, "/home/dev/shop")  # bound, and shown
    assert req.approvals_needed == 2  # an apply may destroy: not known counts as destructive
    assert req.draft.url == "https://git.example.com/acme/shop"

    again = await hook(h, bash(command))  # the agent tries again in the same session
    assert again.decision == "deny" and "CR-1" in again.reason
    assert await h.count_requests() == 1

    await h.approve_all("CR-1")
    allowed = await hook(h, bash(command))
    assert allowed.decision == "allow"
    assert allowed.reason.startswith("signoff: CR-1 approved by ")
    elsewhere = await hook(h, bash(command, session="session-2"))  # another agent session asks anew
    assert elsewhere.decision == "deny" and "CR-2" in elsewhere.reason


async def test_the_hook_waits_up_to_its_timeout_for_the_decision(h: Harness) -> None:
    waiting = asyncio.create_task(hook(h, bash("helm upgrade shop charts/shop"), timeout="60s"))
    await h.slack.wait_for(lambda: bool(h.slack.dms("U0SENIOR1")) and bool(h.slack.dms("U0SENIOR2")), timeout=60)
    await h.approve_all("CR-1")
    answer = await waiting
    assert answer.decision == "allow", answer


async def test_a_denial_denies_with_the_seniors_reason(h: Harness) -> None:
    await hook(h, bash("kubectl delete namespace payments"))
    await h.settle()
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    reason = reason_values("Never delete the namespace; scale it down")
    await h.driver.submit(body["reviewers"][0], ids.DENY_FORM, reason, private_metadata="1")
    answer = await hook(h, bash("kubectl delete namespace payments"))
    assert answer.decision == "deny"
    assert "denied by" in answer.reason and "Never delete the namespace; scale it down" in answer.reason


async def test_an_approval_that_expired_asks_again(h: Harness) -> None:
    command = "pulumi up --yes --stack prod"
    await hook(h, bash(command))
    await h.approve_all("CR-1")
    assert (await hook(h, bash(command))).decision == "allow"
    h.clock.advance(timedelta(hours=24))
    stale = await hook(h, bash(command))
    assert stale.decision == "deny" and "waiting for senior sign-off on CR-2" in stale.reason
    assert (await hook(h, bash(command))).reason == stale.reason  # the same new request, not a third
    assert await h.count_requests() == 2


async def test_a_patterns_file_holds_more_commands(h: Harness) -> None:
    patterns = h.tmp / "patterns"
    patterns.write_text("# our deploy script\nnot-destructive:^\\./deploy\\.sh\\b\n")
    answer = await hook(h, bash("./deploy.sh prod"), env={"SIGNOFF_HOOK_PATTERNS": str(patterns)})
    assert answer.decision == "deny" and "CR-1" in answer.reason
    req = await h.get("CR-1")
    assert (req.approvals_needed, req.draft.destroys) == (1, False)
    await h.settle()  # the reviewer's card says who said it destroys nothing: the patterns file, not the requester
    card = h.review_dm(req.reviewer or "", "CR-1")
    shown = "\n".join([card.text, *block_rules.parsed_texts(card.blocks)])
    assert "the agent hook's patterns file says so" in shown and "requester says so" not in shown
    assert (await hook(h, bash("ls build"), env={"SIGNOFF_HOOK_PATTERNS": str(patterns)})).decision is None

    patterns.write_text("deploy(\n")
    broken = await hook(h, bash("./deploy.sh prod"), env={"SIGNOFF_HOOK_PATTERNS": str(patterns)})
    assert broken.decision == "deny" and "line 1: not a regular expression" in broken.reason


async def test_anything_wrong_denies_in_one_line(h: Harness) -> None:
    held = bash("terraform destroy")
    cases = [
        (await hook(h, None, raw=b"{not json"), "not JSON"),
        (await hook(h, None, raw=b'{"tool_input": {}}'), "no tool_name"),
        (await hook(h, {"tool_name": "Bash", "tool_input": {"command": ""}}), "without a command"),
        (await hook(h, held, env={"SIGNOFF_TOKEN": ""}), "set SIGNOFF_TOKEN"),
        (await hook(h, held, env={"SIGNOFF_TOKEN": "wrong" * 8}), "token"),
        (await hook(h, held, env={"SIGNOFF_URL": "http://127.0.0.1:9"}), "signoff hook:"),
        (await hook(h, held, env={"SIGNOFF_REQUESTER": "nobody@nowhere.example"}), "requester"),
        (await hook(h, held, timeout="soon"), "--timeout"),
    ]
    for answer, words in cases:
        assert (answer.code, answer.decision) == (0, "deny"), answer
        assert words in answer.reason, (words, answer.reason)
        assert "\n" not in answer.reason and "Traceback" not in answer.err
    assert await h.count_requests() == 0


async def test_a_server_that_never_answers_gets_a_deny_inside_the_timeout(h: Harness) -> None:
    """Claude Code lets a command run when its hook times out, so the hook must answer first."""
    accepted: list[asyncio.StreamWriter] = []

    async def hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # read nothing, answer nothing, keep the connection open

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        answer = await asyncio.wait_for(
            hook(h, bash("terraform destroy"), timeout="4s", env={"SIGNOFF_URL": f"http://127.0.0.1:{port}"}),
            timeout=4 + 3,  # the hook's own bound, and a little for the process to start
        )
    finally:
        for writer in accepted:
            writer.close()
        server.close()
    assert (answer.code, answer.decision) == (0, "deny")
    assert "the command is held" in answer.reason and "within 4s" in answer.reason
    assert accepted  # it did ask


async def test_the_same_command_in_another_directory_asks_again(h: Harness) -> None:
    command = "kubectl delete pod web-1"
    await hook(h, bash(command))
    await h.approve_all("CR-1")
    assert (await hook(h, bash(command))).decision == "allow"
    elsewhere = {**bash(command), "cwd": "/home/dev/other-cluster"}
    answer = await hook(h, elsewhere)
    assert answer.decision == "deny" and "CR-2" in answer.reason
    assert (await h.get("CR-2")).draft.workdir == "/home/dev/other-cluster"


async def test_wrapped_and_unreadable_commands_become_requests(h: Harness) -> None:
    forms = [
        "bash -c 'terraform destroy -auto-approve'",
        "timeout 600 terraform apply -auto-approve",
        "(cd infra && terraform apply)",
        "helm del shop",
        "$(command -v terraform) destroy",
        "signoff guard --no-ai-assisted --requester U0SENIOR1 -- terraform destroy -auto-approve",
    ]
    for number, command in enumerate(forms, 1):
        answer = await hook(h, bash(command))
        assert answer.decision == "deny" and f"CR-{number}" in answer.reason, (command, answer)
        req = await h.get(f"CR-{number}")
        assert req.draft.command == command and req.draft.ai_assisted
        assert req.approvals_needed == 2  # destroys, or not known: two seniors
    assert await h.count_requests() == len(forms)

"""`signoff hook claude-code`: a PreToolUse hook for Claude Code, so an AI agent asks a senior
before it runs a command that changes production.

Claude Code runs the hook before every tool call it matches, with JSON on stdin (``session_id``,
``cwd``, ``tool_name``, ``tool_input``). A shell command (``Bash``) that the hook cannot show to be
harmless (``held_commands.py``: it reads the command as the shell does and holds when in doubt)
becomes an AI-assisted request for exactly that command in exactly that directory, routed like
any other, and the hook waits for the decision. ``--timeout`` bounds everything the hook does
(connecting, retries, waiting): when it runs out the hook denies, so it always answers inside
Claude Code's own ``timeout`` for the hook, which must be longer. It answers on stdout, exit
code 0, with ``hookSpecificOutput.permissionDecision``:

  * approved (or not required): ``allow``;
  * denied: ``deny``, with the senior's reason;
  * still pending: ``deny``, "waiting for senior sign-off on CR-n; run it again once approved"
    (the same command in the same directory in the same agent session finds the same request;
    a denial stands for the rest of the session; after an expiry or a cancellation it asks again);
  * anything wrong (bad input, no settings, the server unreachable, a refused token): ``deny`` with
    one line: it fails closed. If even that answer cannot be written, it exits 2, which Claude
    Code also takes as a block.

Every other tool call, and every command that does not change production, gets no answer at
all: Claude Code's own permissions decide, as without the hook.

Settings: ``SIGNOFF_URL``, ``SIGNOFF_TOKEN``, ``SIGNOFF_REQUESTER`` (the person running the agent,
email or Slack ID), ``SIGNOFF_HOOK_PATTERNS`` (more commands to hold), ``SIGNOFF_HOOK_LINK`` (the
link the request carries; by default the repository's origin, from git), ``SIGNOFF_AGENT_VARIABLE``
(the variable that marks the agent's shell, ``CLAUDECODE`` by default: setting or unsetting it
in a command is held).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

from bot.domain.durations import format_duration, parse_duration
from bot.domain.models import Status
from bot.domain.request_fields import BY_HOOK_PATTERN
from bot.gate.answers import waiting_for
from bot.gate.asking import AGENT_VARIABLE, ask, check_server
from bot.gate.client import ApiClient, GateError, OutOfTime
from bot.gate.held_commands import Held, Judge, PatternError, load_patterns

MAX_INPUT = 1024 * 1024
TITLE_SHOWN = 100
POLL_SECONDS = 20
POLL_MARGIN = 1.5  # a long-poll ends this long before the deadline, to leave time to answer
ANSWER_MARGIN = 1.0  # of --timeout, kept for writing the answer and exiting
GIT_SECONDS = 5.0
_SSH_REMOTE = re.compile(r"^(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?$")


class Deny(Exception):
    """Refuse the tool call with this one line."""


def answer(decision: str, reason: str) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    }


def _payload(raw: bytes) -> tuple[str, dict[str, Any], str]:
    """(tool name, tool input, session id) from Claude Code's JSON, or Deny."""
    if len(raw) > MAX_INPUT:
        raise Deny("signoff hook: the hook input is larger than 1 MiB")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise Deny("signoff hook: the hook input is not JSON; expected Claude Code's PreToolUse input") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tool_name"), str):
        raise Deny("signoff hook: the hook input has no tool_name; expected Claude Code's PreToolUse input")
    tool_input = doc.get("tool_input")
    if not isinstance(tool_input, dict):
        raise Deny("signoff hook: the hook input has no tool_input object")
    session = doc.get("session_id") if isinstance(doc.get("session_id"), str) else ""
    cwd = doc.get("cwd") if isinstance(doc.get("cwd"), str) else ""
    tool_input = {**tool_input, "_cwd": cwd}
    return str(doc["tool_name"]), tool_input, str(session)


def _link(cwd: str, deadline: float) -> str:
    """The link the request carries: SIGNOFF_HOOK_LINK, else the repository's origin as https."""
    explicit = os.environ.get("SIGNOFF_HOOK_LINK", "").strip()
    if explicit:
        return explicit
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=cwd or None,
            capture_output=True,
            text=True,
            timeout=max(0.1, min(GIT_SECONDS, deadline - time.monotonic())),
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        remote = ""
    ssh = _SSH_REMOTE.match(remote)
    if ssh:
        return f"https://{ssh.group(1)}/{ssh.group(2)}"
    if remote.startswith(("https://", "http://")):
        return remote.removesuffix(".git")
    raise Deny(
        "signoff hook: no link for the request: set SIGNOFF_HOOK_LINK, or run the agent in a git repository "
        "with an origin remote"
    )


def _settings() -> tuple[str, str, str]:
    server = os.environ.get("SIGNOFF_URL", "").strip()
    token = os.environ.get("SIGNOFF_TOKEN", "").strip()
    requester = os.environ.get("SIGNOFF_REQUESTER", "").strip()
    given = (("SIGNOFF_URL", server), ("SIGNOFF_TOKEN", token), ("SIGNOFF_REQUESTER", requester))
    missing = [setting for setting, value in given if not value]
    if missing:
        raise Deny(f"signoff hook is not set up: set {', '.join(missing)} (this command changes production)")
    try:
        check_server(server)
    except GateError as exc:
        raise Deny(f"signoff hook: {exc}") from None
    return server, token, requester


def decide(raw: bytes, limit: timedelta, deadline: float) -> dict[str, Any] | None:
    """The hook's answer for one tool call: None lets Claude Code's own permissions decide."""
    tool, tool_input, session = _payload(raw)
    if tool != "Bash":
        return None
    command = tool_input.get("command")
    if not isinstance(command, str) or not command.strip():
        raise Deny("signoff hook: a Bash call without a command")
    agent_variable = os.environ.get("SIGNOFF_AGENT_VARIABLE", "").strip() or AGENT_VARIABLE
    try:
        why = Judge(load_patterns(os.environ.get("SIGNOFF_HOOK_PATTERNS")), agent_variable).held(command)
    except PatternError as exc:
        raise Deny(f"signoff hook: {exc}") from None
    if why is None:
        return None
    server, token, requester = _settings()
    client = ApiClient(server, token, attempts=3, say=lambda _line: None, deadline=deadline)
    cwd = str(tool_input.get("_cwd") or "")
    body = _request(command.strip(), why, requester, _link(cwd, deadline), cwd)
    try:
        req = _ask(client, body, f"{session}|{cwd}|{command.strip()}")
        req = _wait(client, req)
    except OutOfTime as exc:
        raise Deny(f"signoff hook: {exc}; the command is held (no decision within {format_duration(limit)})") from None
    except GateError as exc:
        raise Deny(f"signoff hook: {exc}; the command is held") from None
    return _verdict(req)


def _ask(client: ApiClient, body: dict[str, Any], asked: str) -> dict[str, Any]:
    """The request for this command in this directory in this agent session: the same one each
    time it is asked, until it can no longer be used (it expired, was cancelled, or its approval
    ran out); then a new one that names it, chained on its id so that every hook run finds the
    same new one. A denial stands for the session: the agent is told, and does not ask again."""
    key = "hook-" + hashlib.sha256(f"{asked}|".encode()).hexdigest()[:40]
    return ask(client, body, key, None, chained=True, denial_counts=False, say=lambda _line: None)


def _request(command: str, why: Held, requester: str, link: str, cwd: str) -> dict[str, Any]:
    first_line = command.splitlines()[0]
    body: dict[str, Any] = {
        "requester": requester,
        "title": f"Claude Code wants to run: {first_line}"[:TITLE_SHOWN],
        "url": link,
        "description": f"Claude Code (an AI agent) asked to run a command, held because {why.why}.",
        "ai_assisted": True,
        "ai_tool": "Claude Code",
        "environment": "production",
        "command": command,
        "workdir": cwd,
    }
    if why.destructive is not None:  # left out: not known, which counts as destructive
        body["destructive"], body["destructive_by"] = why.destructive, BY_HOOK_PATTERN
    return body


def _wait(client: ApiClient, req: dict[str, Any]) -> dict[str, Any]:
    while req.get("status") == Status.PENDING:
        left = client.left()
        if left is None or left < 1 + POLL_MARGIN:
            break
        req = client.get(str(req["id"]), wait=min(POLL_SECONDS, left - POLL_MARGIN))
    return req


@contextmanager
def _hard_deadline(seconds: float, limit: timedelta) -> Iterator[None]:
    """Whatever hangs (a server that trickles bytes, a stuck git), the hook answers in time."""

    def out_of_time(_signum: int, _frame: FrameType | None) -> None:
        raise Deny(
            f"signoff hook: no answer from signoff; the command is held (no decision within {format_duration(limit)})"
        )

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, max(0.1, seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _verdict(req: dict[str, Any]) -> dict[str, Any]:
    ref, status = req.get("id"), req.get("status")
    words = str(req.get("outcome") or status)
    if status in ("approved", "not_required"):
        return answer("allow", f"signoff: {ref} {words}")
    if status == "denied":
        return answer("deny", f"signoff: {ref} {words}")
    if status == "pending":
        who = waiting_for(req)
        return answer("deny", f"signoff: waiting for senior sign-off on {ref}: {who}; run it again once approved")
    return answer("deny", f"signoff: {ref} {words}; ask again if the change is still wanted")


def run_hook(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        try:
            limit = parse_duration(args.timeout)
        except ValueError as exc:
            raise Deny(f"signoff hook: --timeout: {exc}") from None
        margin = min(ANSWER_MARGIN, limit.total_seconds() / 5)
        allowed = limit.total_seconds() - margin
        with _hard_deadline(allowed + margin / 2, limit):
            reply = decide(sys.stdin.buffer.read(MAX_INPUT + 1), limit, started + allowed)
    except Deny as refusal:
        reply = answer("deny", str(refusal))
    except Exception as exc:  # fail closed, in one line
        reply = answer("deny", f"signoff hook failed ({type(exc).__name__}); the command is held")
    if reply is not None:
        try:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
        except OSError:
            print("signoff hook: the command is held", file=sys.stderr)
            return 2
    return 0


def add_parser(sub: Any) -> None:
    hook = sub.add_parser("hook", help="hooks for AI coding agents: hold commands that change production")
    agents = hook.add_subparsers(dest="agent", required=True)
    claude = agents.add_parser(
        "claude-code",
        help="a PreToolUse hook for Claude Code: reads the tool call on stdin, answers allow or deny on stdout",
    )
    claude.add_argument(
        "--timeout",
        default="50s",
        help="the most the hook takes, everything included; then it denies (default 50s: keep it under the hook's "
        "own timeout in Claude Code's settings)",
    )
    claude.set_defaults(run=run_hook)

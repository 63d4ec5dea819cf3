"""`signoff hook claude-code`: a PreToolUse hook for Claude Code, so an AI agent asks a senior
before it runs a command that changes production.

Claude Code runs the hook before every tool call it matches, with JSON on stdin (``session_id``,
``tool_name``, ``tool_input``). A shell command (``Bash``) that changes production
(``held_commands.py``) becomes an AI-assisted request, routed like any other, and the hook waits
up to ``--timeout`` for the decision. It answers on stdout, exit code 0, with
``hookSpecificOutput.permissionDecision``:

  * approved (or not required): ``allow``;
  * denied: ``deny``, with the senior's reason;
  * still pending: ``deny``, "waiting for senior sign-off on CR-n; run it again once approved"
    (asking again with the same command in the same agent session finds the same request);
  * anything wrong (bad input, no settings, the server unreachable, a refused token): ``deny`` with
    one line: it fails closed. If even that answer cannot be written, it exits 2, which Claude
    Code also takes as a block.

Every other tool call, and every command that does not change production, gets no answer at
all: Claude Code's own permissions decide, as without the hook.

Settings: ``SIGNOFF_URL``, ``SIGNOFF_TOKEN``, ``SIGNOFF_REQUESTER`` (the person running the agent,
email or Slack ID), ``SIGNOFF_HOOK_PATTERNS`` (more commands to hold), ``SIGNOFF_HOOK_LINK`` (the
link the request carries; by default the repository's origin, from git).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from bot.domain.durations import parse_duration
from bot.gate.client import ApiClient, GateError
from bot.gate.commands import check_server, waiting_for
from bot.gate.held_commands import Held, PatternError, held, load_patterns

MAX_INPUT = 1024 * 1024
TITLE_SHOWN = 100
POLL_SECONDS = 20
ASKS_CHAINED = 20  # a session asking the same command again after 20 spent requests keeps the last
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


def _link(cwd: str) -> str:
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
            timeout=5,
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


def decide(raw: bytes, limit: timedelta) -> dict[str, Any] | None:
    """The hook's answer for one tool call: None lets Claude Code's own permissions decide."""
    tool, tool_input, session = _payload(raw)
    if tool != "Bash":
        return None
    command = tool_input.get("command")
    if not isinstance(command, str) or not command.strip():
        raise Deny("signoff hook: a Bash call without a command")
    try:
        why = held(command, load_patterns(os.environ.get("SIGNOFF_HOOK_PATTERNS")))
    except PatternError as exc:
        raise Deny(f"signoff hook: {exc}") from None
    if why is None:
        return None
    server, token, requester = _settings()
    client = ApiClient(server, token, attempts=3, say=lambda _line: None)
    body = _request(command, why, requester, _link(str(tool_input.get("_cwd") or "")))
    try:
        req = _ask(client, body, f"{session}|{command}")
        req = _wait(client, req, limit)
    except GateError as exc:
        raise Deny(f"signoff hook: {exc}") from None
    return _verdict(req)


def _ask(client: ApiClient, body: dict[str, Any], asked: str) -> dict[str, Any]:
    """The request for this command in this agent session: the same one each time it is asked,
    until it can no longer be used (it expired, was cancelled, or its approval ran out); then a
    new one, chained on the old one's id so that every hook run finds the same new one."""
    previous = ""
    for _ in range(ASKS_CHAINED):
        key = "hook-" + hashlib.sha256(f"{asked}|{previous}".encode()).hexdigest()[:40]
        req = client.create(body, key)
        if not _spent(req):
            return req
        previous = str(req.get("id"))
    return req


def _spent(req: dict[str, Any]) -> bool:
    status = req.get("status")
    return status in ("expired", "cancelled") or (status == "approved" and req.get("approval_expired") is True)


def _request(command: str, why: Held, requester: str, link: str) -> dict[str, Any]:
    first_line = command.strip().splitlines()[0]
    body: dict[str, Any] = {
        "requester": requester,
        "title": f"Claude Code wants to run: {first_line}"[:TITLE_SHOWN],
        "url": link,
        "description": f"Claude Code (an AI agent) asked to run this command; {why.why}:\n{command}",
        "ai_assisted": True,
        "ai_tool": "Claude Code",
        "environment": "production",
    }
    if why.destructive is not None:  # left out: not known, which counts as destructive
        body["destructive"] = why.destructive
    return body


def _wait(client: ApiClient, req: dict[str, Any], limit: timedelta) -> dict[str, Any]:
    deadline = time.monotonic() + limit.total_seconds()
    while req.get("status") == "pending":
        left = deadline - time.monotonic()
        if left < 1:
            break
        req = client.get(str(req["id"]), wait=min(POLL_SECONDS, left))
    return req


def _verdict(req: dict[str, Any]) -> dict[str, Any]:
    ref, status = req.get("id"), req.get("status")
    words = str(req.get("outcome") or status)
    if status in ("approved", "not_required"):
        return answer("allow", f"signoff: {ref} {words}")
    if status == "denied":
        return answer("deny", f"signoff: {ref} {words}")
    if status == "pending":
        who = waiting_for(req)
        return answer("deny", f"signoff: waiting for senior sign-off on {ref} ({who}); run it again once approved")
    return answer("deny", f"signoff: {ref} {words}; ask again if the change is still wanted")


def run_hook(args: argparse.Namespace) -> int:
    try:
        try:
            limit = parse_duration(args.timeout)
        except ValueError as exc:
            raise Deny(f"signoff hook: --timeout: {exc}") from None
        reply = decide(sys.stdin.buffer.read(MAX_INPUT + 1), limit)
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
        "--timeout", default="50s", help="how long to wait for a decision (default 50s, under the hook's own limit)"
    )
    claude.set_defaults(run=run_hook)

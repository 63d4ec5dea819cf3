"""Asking for sign-off from the CLI: the request's body, its idempotency key, the rules that hold
when an AI agent runs the CLI, and asking again after a request ended without a usable approval."""

from __future__ import annotations

import argparse
import hashlib
import os
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from bot.domain.durations import parse_duration
from bot.domain.numbers import ascii_int
from bot.domain.plan_summary import MAX_PLANS, merge
from bot.domain.request_fields import BY_COMMAND
from bot.gate import id_tokens
from bot.gate.answers import spent
from bot.gate.client import ApiClient, GateError
from bot.gate.exit_codes import err
from bot.gate.git import GitError, read_change
from bot.gate.plans import PlanError, read_plan_file

T = TypeVar("T")
MAX_RETRIES = 20
ASKS_CHAINED = 20  # a run asking again after this many spent requests keeps the last one
AGENT_VARIABLE = "CLAUDECODE"  # set in Claude Code's shell; SIGNOFF_AGENT_VARIABLE names another
RUN_ID_VARIABLES = (
    "SIGNOFF_RUN_ID",
    "GITHUB_RUN_ID",
    "CI_PIPELINE_ID",
    "BUILDKITE_BUILD_ID",
    "CIRCLE_WORKFLOW_ID",
    "BUILD_TAG",
)


def client_for(args: argparse.Namespace) -> ApiClient:
    server = args.server or os.environ.get("SIGNOFF_URL")
    token: str | Callable[[], str] | None = args.token or os.environ.get("SIGNOFF_TOKEN")
    source = "given with --token" if args.token else "in SIGNOFF_TOKEN"
    if not server:
        raise GateError("no server: pass --server URL or set SIGNOFF_URL")
    check_server(server)
    if not token:
        token, source = id_tokens.from_environment(os.environ), "(an OIDC ID token)"
    if not token:
        raise GateError(
            "no token: pass --token TOKEN or set SIGNOFF_TOKEN, or give an OIDC ID token (SIGNOFF_OIDC_TOKEN, or "
            "GitHub Actions with `permissions: id-token: write`)"
        )
    return ApiClient(server, token, attempts=args.retries + 1, say=err, token_source=source)


def check_server(server: str) -> None:
    """An http(s) URL with a host and, if given, a numeric port; anything else is exit 3 before any call."""
    problem = None
    try:
        parts = urllib.parse.urlsplit(server)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme not in ("http", "https"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname or any(ch.isspace() for ch in server):
            problem = "it has no valid host name"
    if problem is not None:
        raise GateError(f"--server/SIGNOFF_URL {server!r} is not a usable URL: {problem}")


def retries(text: str) -> int:
    value = ascii_int(text, max_digits=2)
    if value is None or value > MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_RETRIES} (got {text!r})")
    return value


def timeout_of(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise GateError(f"--timeout: {exc}") from None


def run_id(explicit: str | None) -> str | None:
    """The CI run this process belongs to: --run, else the CI platform's run variable."""
    if explicit:
        return explicit
    return next((os.environ[v] for v in RUN_ID_VARIABLES if os.environ.get(v)), None)


def idempotency_key(explicit: str | None, body: dict[str, Any]) -> str:
    """The same commit (or command, in the same directory) in the same CI run always asks once,
    however often the job is retried."""
    if explicit:
        return explicit
    run = run_id(None)
    if run is None:
        return f"cli-{uuid.uuid4().hex}"
    what = body.get("commit") or f"{body.get('title')}|{body.get('url')}"
    material = f"{run}|{what}|{body.get('environment', '')}|{body.get('service', '')}"
    plans = ",".join((body.get("plan") or {}).get("sha256", []))
    if plans:  # appended only when given, so keys of requests without a plan stay as they were
        material += f"|{plans}"
    if body.get("break_glass"):
        material += "|break-glass"
    if body.get("command"):  # another command, or another directory, is another request
        material += f"|{body['command']}|{body.get('workdir', '')}"
    return "cli-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def ask(
    client: ApiClient,
    body: dict[str, Any],
    key: str,
    run: str | None,
    chained: bool,
    denial_counts: bool = True,
    say: Callable[[str], None] = err,
) -> dict[str, Any]:
    """The request for ``body``: the one this key found, or, when that one ended without an
    approval this run can use (``chained``: the key is derived, so a re-run finds it again), a new
    one that names it, keyed on it (with the key's own prefix) so that every re-run finds the same
    new one. ``denial_counts=False``: a denial stands, and is not asked again (the agent hook)."""
    req = client.create(body, key)
    prefix = key.partition("-")[0]
    for _ in range(ASKS_CHAINED if chained else 0):
        why = spent(req, run, denial_counts)
        if why is None:
            break
        earlier = str(req.get("id"))
        say(f"{earlier} {why}; asking again")
        body = {**body, "asked_again_after": earlier}
        key = f"{prefix}-" + hashlib.sha256(f"{key}|{earlier}".encode()).hexdigest()[:40]
        req = client.create(body, key)
    return req


def agent_shell(env: Mapping[str, str]) -> str | None:
    """The variable that says an AI agent runs this process, if it is set."""
    variable = env.get("SIGNOFF_AGENT_VARIABLE", "").strip() or AGENT_VARIABLE
    return variable if env.get(variable, "").strip() else None


def body_from(args: argparse.Namespace, by_command: bool | None = None) -> dict[str, Any]:
    """The request a pipeline asks for. Under an AI agent the agent cannot lower its own bar: the
    request is AI-assisted, the requester is SIGNOFF_REQUESTER, destructive comes from the command
    (``by_command``: True, False, or None for not known) or the plan, and break-glass and a chosen
    idempotency key are refused."""
    agent = agent_shell(os.environ)
    requester = _requester(args, agent, verified=_verified_identity(args))
    body: dict[str, Any] = {
        "requester": requester,
        "title": args.title,
        "url": args.url,
        "service": args.service or "",
        "environment": args.environment or "production",
        "description": args.description or "",
        "ai_tool": args.ai_tool or "",
        "authors": list(args.author or []),
    }
    if args.from_git:
        try:
            change = read_change(args.from_git)
        except GitError as exc:
            raise GateError(f"--from-git {args.from_git}: {exc}") from None
        body["title"] = body["title"] or change.title
        body["commit"] = change.commit
        body["authors"] = list(dict.fromkeys([*body["authors"], *change.authors]))
        body["ai_assisted"] = change.ai_assisted
        body["ai_tool"] = body["ai_tool"] or change.ai_tool
        if change.ai_assisted:
            err(f"AI assistance detected in {args.from_git}:")
            for line in change.evidence:
                err(f"  {line}")
        else:
            commits = "1 commit" if change.commits == 1 else f"{change.commits} commits"
            err(f"no AI assistance detected in {commits} of {args.from_git} (no AI trailers)")
    else:
        body["ai_assisted"] = bool(args.ai_assisted)
    if not body["title"]:
        raise GateError("--title is required (or use --from-git REV to take it from the commit)")
    _blast_radius(args, body)
    if args.break_glass is not None:
        if agent:
            raise GateError(f"an AI agent cannot break glass ({agent} is set); ask a person to do it")
        if not args.break_glass.strip():
            raise GateError("--break-glass needs the emergency's reason: what is broken and why it cannot wait")
        body["break_glass"] = args.break_glass
    if agent:
        _agent_rules(args, body, agent, by_command)
    if not body["requester"]:
        del body["requester"]  # a verified pipeline: the server takes the person from the ID token
    return body


def _verified_identity(args: argparse.Namespace) -> bool:
    """Whether this run proves who it is with an OIDC ID token instead of an API token."""
    static = args.token or os.environ.get("SIGNOFF_TOKEN")
    return not static and id_tokens.from_environment(os.environ) is not None


def _requester(args: argparse.Namespace, agent: str | None, verified: bool = False) -> str:
    configured = os.environ.get("SIGNOFF_REQUESTER", "").strip()
    if agent:
        if not configured:
            raise GateError(f"an AI agent runs this ({agent} is set): set SIGNOFF_REQUESTER to the person running it")
        if args.requester and args.requester.strip() != configured:
            raise GateError(
                f"an AI agent runs this ({agent} is set): the requester is SIGNOFF_REQUESTER, not --requester"
            )
        return configured
    requester = (args.requester or configured).strip()
    if not requester and not verified:
        raise GateError("--requester is required (or set SIGNOFF_REQUESTER): the engineer's Slack ID or email")
    return requester


def _agent_rules(args: argparse.Namespace, body: dict[str, Any], agent: str, by_command: bool | None) -> None:
    if args.idempotency_key:
        raise GateError(f"an AI agent runs this ({agent} is set): --idempotency-key is not taken")
    if not body["ai_assisted"]:
        err(f"an AI agent runs this ({agent} is set): the request is AI-assisted")
        body["ai_assisted"] = True
    body["ai_tool"] = body["ai_tool"] or "an AI agent"
    if body.get("destructive") is False:
        err(f"an AI agent runs this ({agent} is set): --not-destructive is not taken; the command and plan decide")
        del body["destructive"]
    if by_command is not None and "destructive" not in body:  # not known: left out, which counts as destructive
        body["destructive"], body["destructive_by"] = by_command, BY_COMMAND


def each_plan(paths: list[str], read: Callable[[str], T]) -> list[T]:
    """``read`` applied to each --plan file; too many, or one unreadable, is a usage error (exit 3)."""
    if len(paths) > MAX_PLANS:
        raise GateError(f"--plan: at most {MAX_PLANS} plans")
    try:
        return [read(path) for path in paths]
    except PlanError as exc:
        raise GateError(f"--plan {exc}") from None


def _blast_radius(args: argparse.Namespace, body: dict[str, Any]) -> None:
    """--plan files read here, sent as a summary with their SHA-256; --destructive as said."""
    if args.destructive is not None:
        body["destructive"] = args.destructive
    if not args.plan:
        return
    radius = merge(each_plan(args.plan, read_plan_file))
    body["plan"] = radius.to_json()
    err(f"plan: {radius.headline()} ({', '.join(radius.formats)}; sha256 {', '.join(radius.sha256)})")
    for d in radius.resources[:20]:
        err(f"  {d.action}: {d.address}" + (f" ({d.reason})" if d.reason else ""))
    if len(radius.resources) > 20:
        err(f"  ...and {len(radius.resources) - 20} more")

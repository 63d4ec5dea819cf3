"""`signoff request`, `signoff status` and `signoff verify`: ask, optionally wait, check the plan,
and exit with a code a pipeline can use.

Exit codes: 0 approved or not required; 1 denied (verify: the plan is not the approved one);
2 timed out, expired, cancelled, or still pending without --wait (verify: not approved);
3 usage, configuration, auth or network error, or a plan that cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from bot.domain.durations import format_duration, parse_duration
from bot.domain.numbers import ascii_int
from bot.domain.plan_summary import MAX_PLANS, merge
from bot.gate.client import ApiClient, GateError
from bot.gate.git import GitError, read_change
from bot.gate.plans import PlanError, digest_of, read_plan_file

T = TypeVar("T")
APPROVED, DENIED, UNDECIDED, ERROR = 0, 1, 2, 3
POLL_SECONDS = 25
MAX_RETRIES = 20
RUN_ID_VARIABLES = (
    "SIGNOFF_RUN_ID",
    "GITHUB_RUN_ID",
    "CI_PIPELINE_ID",
    "BUILDKITE_BUILD_ID",
    "CIRCLE_WORKFLOW_ID",
    "BUILD_TAG",
)


def _err(message: str) -> None:
    print(f"signoff: {message}", file=sys.stderr)


def _client(args: argparse.Namespace) -> ApiClient:
    server = args.server or os.environ.get("SIGNOFF_URL")
    token = args.token or os.environ.get("SIGNOFF_TOKEN")
    if not server:
        raise GateError("no server: pass --server URL or set SIGNOFF_URL")
    check_server(server)
    if not token:
        raise GateError("no token: pass --token TOKEN or set SIGNOFF_TOKEN")
    return ApiClient(server, token, attempts=args.retries + 1, say=lambda line: _err(line))


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


def _timeout(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise GateError(f"--timeout: {exc}") from None


def idempotency_key(explicit: str | None, body: dict[str, Any]) -> str:
    """The same commit in the same CI run always asks once, however often the job is retried."""
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
    return "cli-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def name(req: dict[str, Any], user: Any, role: str = "a senior reviewer") -> str:
    """A person as the API's answer names them; never a raw Slack ID."""
    names = req.get("names")
    found = names.get(user) if isinstance(names, dict) and isinstance(user, str) else None
    return str(found) if isinstance(found, str) and found else role


def _when(text: Any) -> str:
    return str(text).replace("T", " ")[:16] + " UTC" if isinstance(text, str) and text else "?"


def outcome(req: dict[str, Any]) -> int:
    """Print how ``req`` stands in words and return its exit code (-1: still pending)."""
    status = req.get("status")
    ref = req.get("id")
    words = str(req.get("outcome") or status)
    if status == "approved":
        until = req.get("valid_until")
        if req.get("approval_expired"):
            print(f"{ref} was {words}, but the approval expired at {_when(until)}; ask again")
            return UNDECIDED
        valid = f", valid until {_when(until)}" if isinstance(until, str) else ""
        if req.get("break_glass"):
            print(f"{ref} {words}{valid}; a senior reviews it after the fact")
        else:
            print(f"{ref} {words}{valid}")
        return APPROVED
    if status == "not_required":
        print(f"{ref} {words}")
        return APPROVED
    if status == "denied":
        print(f"{ref} {words.replace('denied', 'DENIED', 1)}")
        return DENIED
    if status in ("cancelled", "expired"):
        print(f"{ref} {words}; it was not approved")
        return UNDECIDED
    return -1  # still pending


def wait_for(
    client: ApiClient,
    req: dict[str, Any],
    limit: timedelta,
    now: Callable[[], float] = time.monotonic,
    give_up: Callable[[dict[str, Any], timedelta], int] | None = None,
) -> int:
    started = now()
    while True:
        code = outcome(req)
        if code >= 0:
            return code
        waited = timedelta(seconds=now() - started)
        so_far = f"waited {format_duration(waited)} of {format_duration(limit)}"
        _err(f"{req['id']}: waiting for {waiting_for(req)} ({so_far})")
        left = (limit - waited).total_seconds()
        if left <= 0:
            if give_up is not None:
                return give_up(req, limit)
            print(f"{req['id']} timed out after {format_duration(limit)}; still pending, not approved")
            return UNDECIDED
        req = client.get(str(req["id"]), wait=min(POLL_SECONDS, max(1.0, left)))


def waiting_for(req: dict[str, Any]) -> str:
    """Who a pending request waits for, by name: every reviewer asked and what is still missing."""
    reviewers = [name(req, r) for r in req.get("reviewers") or [] if r != req.get("decided_by")]
    needed, approved = int(req.get("approvals_needed") or 1), int(req.get("approvals") or 0)
    if needed > 1:
        asked = f"; asked: {', '.join(reviewers)}" if reviewers else ""
        return f"{needed - approved} more of {needed} senior approvals ({approved} so far{asked})"
    if req.get("reviewer"):
        return name(req, req["reviewer"])
    return "a senior to claim it in Slack"


def stop_waiting(client: ApiClient) -> Callable[[dict[str, Any], timedelta], int]:
    """`request --wait` gave up: the request is expired on the server, so nobody reviews a change this
    pipeline will not apply. If the server cannot be told, the timeout still stands."""

    def give_up(req: dict[str, Any], limit: timedelta) -> int:
        ref = str(req["id"])
        try:
            ended = client.give_up(ref)
        except GateError as exc:
            _err(f"could not tell signoff this pipeline stopped waiting ({exc})")
            ended = req
        if ended.get("status") not in (None, "pending", "expired"):
            return outcome(ended)  # decided in the last moment
        print(f"{ref} timed out after {format_duration(limit)}: not approved; it expired, so nobody reviews it now")
        return UNDECIDED

    return give_up


def status_words(req: dict[str, Any]) -> str:
    """A status as people say it ("waiting for Sara Senior", "not required"), never a code."""
    if req.get("status") == "pending":
        return f"waiting for {waiting_for(req)}"
    return str(req.get("outcome") or str(req.get("status", "")).replace("_", " "))


def run_id(explicit: str | None) -> str | None:
    """The CI run this process belongs to: --run, else the CI platform's run variable."""
    if explicit:
        return explicit
    return next((os.environ[v] for v in RUN_ID_VARIABLES if os.environ.get(v)), None)


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requester": args.requester,
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
            _err(f"AI assistance detected in {args.from_git}:")
            for line in change.evidence:
                _err(f"  {line}")
        else:
            _err(f"no AI assistance detected in {change.commits} commit(s) of {args.from_git} (no AI trailers)")
    else:
        body["ai_assisted"] = bool(args.ai_assisted)
    if not body["title"]:
        raise GateError("--title is required (or use --from-git REV to take it from the commit)")
    _blast_radius(args, body)
    if args.break_glass is not None:
        if not args.break_glass.strip():
            raise GateError("--break-glass needs the emergency's reason: what is broken and why it cannot wait")
        body["break_glass"] = args.break_glass
    return body


def _each_plan(paths: list[str], read: Callable[[str], T]) -> list[T]:
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
    radius = merge(_each_plan(args.plan, read_plan_file))
    body["plan"] = radius.to_json()
    _err(f"plan: {radius.headline()} ({', '.join(radius.formats)}; sha256 {', '.join(radius.sha256)})")
    for d in radius.resources[:20]:
        _err(f"  {d.action}: {d.address}" + (f" ({d.reason})" if d.reason else ""))
    if len(radius.resources) > 20:
        _err(f"  ...and {len(radius.resources) - 20} more")


def run_request(args: argparse.Namespace) -> int:
    try:
        limit = _timeout(args.timeout)
        body = _body(args)
        client = _client(args)
        req = client.create(body, idempotency_key(args.idempotency_key, body))
        if req.get("status") == "pending":
            print(f"{req['id']}: {status_words(req)}")
        if args.wait:
            return wait_for(client, req, limit, give_up=stop_waiting(client))
        code = outcome(req)
        if code < 0:
            print(f"{req['id']} is pending: not approved yet (use --wait, or `signoff status {req['id']} --wait`)")
            return UNDECIDED
        return code
    except GateError as exc:
        _err(str(exc))
        return ERROR


def run_status(args: argparse.Namespace) -> int:
    try:
        limit = _timeout(args.timeout)
        client = _client(args)
        req = client.get(args.id)
        if args.wait:
            return wait_for(client, req, limit)
        code = outcome(req)
        if code < 0:
            print(f"{req['id']} is pending, waiting for {waiting_for(req)}")
            return UNDECIDED
        return code
    except GateError as exc:
        _err(str(exc))
        return ERROR


def run_verify(args: argparse.Namespace) -> int:
    """0: approved and every file is an approved plan; 1: a file differs; 2: not approved yet."""
    try:
        digests = _each_plan(args.plan, digest_of)
        once = run_id(args.ci_run) if args.once else None
        if args.once and once is None:
            raise GateError("--once needs the CI run's id: pass --run ID or set SIGNOFF_RUN_ID (or GITHUB_RUN_ID, …)")
        client = _client(args)
        answer = client.verify(args.id, digests, once)
    except GateError as exc:
        _err(str(exc))
        return ERROR
    ref, result = answer.get("id"), answer.get("result")
    approved = [str(d) for d in answer.get("approved_sha256") or []]
    if result == "not_approved":
        print(f"{ref} is {str(answer.get('status')).replace('_', ' ')}, not approved: do not apply")
        return UNDECIDED
    if result == "expired":
        print(f"{ref}: approval expired at {_when(answer.get('valid_until'))}; ask again")
        return UNDECIDED
    if result == "used":
        print(f"{ref}: the approval was already used by run {answer.get('used_by_run')}; ask again for this run")
        return UNDECIDED
    if result == "match":
        print(f"{ref} approved this plan (sha256 {', '.join(digests)}); apply exactly this file")
        return APPROVED
    print(f"{ref}: the plan differs from the approved one: do not apply")
    for path, digest in zip(args.plan, digests, strict=True):
        mark = "approved" if digest in approved else "NOT APPROVED"
        print(f"  {path}: sha256 {digest} ({mark})")
    print(f"  approved: sha256 {', '.join(approved) if approved else '(no plan was attached to the request)'}")
    return DENIED


def add_parsers(sub: Any) -> None:
    epilog = (
        "exit codes: 0 approved or not required; 1 denied (the reason is printed); "
        "2 timed out, expired, cancelled, or pending without --wait; 3 usage, configuration, auth or network error"
    )
    conn = argparse.ArgumentParser(add_help=False)
    conn.add_argument("--server", help="signoff base URL (default: $SIGNOFF_URL)")
    conn.add_argument("--token", help="API token (default: $SIGNOFF_TOKEN)")
    conn.add_argument(
        "--retries", type=retries, default=5, help=f"retries of transient network errors, 0-{MAX_RETRIES} (default 5)"
    )

    req = argparse.ArgumentParser(add_help=False, parents=[conn])  # the flags of `request` and `guard`
    req.add_argument("--title", help="what is changing (default with --from-git: the commit subject)")
    req.add_argument("--url", required=True, help="link to the PR, MR or diff")
    req.add_argument("--requester", required=True, help="Slack user ID or email of the engineer")
    ai = req.add_mutually_exclusive_group(required=True)
    ai.add_argument("--ai-assisted", action="store_true", default=None, help="AI helped write the change")
    ai.add_argument("--no-ai-assisted", dest="ai_assisted", action="store_false", help="no AI helped")
    ai.add_argument("--from-git", metavar="REV", help="read title, commit, authors and AI trailers from git")
    req.add_argument("--ai-tool", help="which AI tool")
    req.add_argument("--service")
    req.add_argument("--environment", default="production")
    req.add_argument("--description")
    req.add_argument("--author", action="append", help="an author's email or Slack ID (repeatable)")
    req.add_argument(
        "--plan",
        action="append",
        metavar="FILE",
        help="the plan to apply, as JSON (terraform/tofu show -json, pulumi preview --json, "
        "aws cloudformation describe-change-set); read here, its summary and SHA-256 sent (repeatable)",
    )
    destroys = req.add_mutually_exclusive_group()
    destroys.add_argument(
        "--destructive", action="store_true", default=None, help="the change deletes or replaces resources"
    )
    destroys.add_argument(
        "--not-destructive", dest="destructive", action="store_false", help="it deletes and replaces nothing"
    )
    req.add_argument(
        "--break-glass",
        metavar="REASON",
        help="emergency: approve at once, announce it, and have a senior review it afterwards",
    )
    req.add_argument("--timeout", default="30m", help="how long to wait for a decision: 90s, 30m, 4h, 2d (default 30m)")
    req.add_argument("--idempotency-key", help="default: derived from the commit and the CI run")
    request = sub.add_parser("request", parents=[req], help="ask for sign-off from a pipeline", epilog=epilog)
    request.add_argument("--wait", action="store_true", help="block until a decision, printing progress")
    request.set_defaults(run=run_request)
    from bot.gate import guard  # guard builds on this module

    guard.add_parser(sub, req)

    st = sub.add_parser("status", parents=[conn], help="show, or wait for, a request's decision", epilog=epilog)
    st.add_argument("id", help="the request id, e.g. CR-42")
    st.add_argument("--wait", action="store_true", help="block until a decision, printing progress")
    st.add_argument("--timeout", default="10m", help="how long --wait waits (default 10m)")
    st.set_defaults(run=run_status)

    ver = sub.add_parser(
        "verify",
        parents=[conn],
        help="check that the plan about to be applied is the one approved",
        epilog="exit codes: 0 approved and the plan is the approved one; 1 the plan differs (both digests are "
        "printed); 2 not approved (yet), the approval expired, or (--once) another run used it; "
        "3 usage, configuration, auth or network error",
    )
    ver.add_argument("id", help="the request id, e.g. CR-42")
    ver.add_argument("--plan", action="append", required=True, metavar="FILE", help="the plan file (repeatable)")
    ver.add_argument(
        "--once",
        action="store_true",
        help="use the approval up for this CI run: a verify from another run then exits 2",
    )
    ver.add_argument(
        "--run",
        dest="ci_run",
        metavar="ID",
        help="this CI run's id (default: SIGNOFF_RUN_ID, GITHUB_RUN_ID, CI_PIPELINE_ID, …)",
    )
    ver.set_defaults(run=run_verify)

"""`signoff request`, `signoff status` and `signoff verify`: ask, optionally wait, check the plan,
and exit with a code a pipeline can use.

Exit codes: 0 approved or not required; 1 denied (verify: the plan is not the approved one);
2 timed out, expired, cancelled, or still pending without --wait (verify: not approved);
3 usage, configuration, auth or network error, or a plan that cannot be read.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.domain.verification import Verified
from bot.gate import guard
from bot.gate.answers import outcome, status_words, waiting_for, when
from bot.gate.asking import (
    MAX_RETRIES,
    ask,
    body_from,
    client_for,
    each_plan,
    idempotency_key,
    retries,
    run_id,
    timeout_of,
)
from bot.gate.client import GateError
from bot.gate.exit_codes import APPROVED, DENIED, ERROR, UNDECIDED, err
from bot.gate.plans import digest_of
from bot.gate.waiting import ask_and_wait, wait_for


def run_request(args: argparse.Namespace) -> int:
    try:
        limit = timeout_of(args.timeout)
        body = body_from(args)
        client = client_for(args)
        key = idempotency_key(args.idempotency_key, body)
        run, chained = run_id(None), not args.idempotency_key and run_id(None) is not None
        if args.wait:
            _asked, code = ask_and_wait(
                lambda: ask(client, body, key, run, chained),
                client,
                limit,
                "signoff request",
                lambda asked: f"{asked['id']}: {status_words(asked)}",
            )
            return code
        req = ask(client, body, key, run, chained=chained)
        if req.get("status") == "pending":
            print(f"{req['id']}: {status_words(req)}")
        code = outcome(req)
        if code < 0:
            print(f"{req['id']} is pending: not approved yet (use --wait, or `signoff status {req['id']} --wait`)")
            return UNDECIDED
        return code
    except GateError as exc:
        err(str(exc))
        return ERROR


def run_status(args: argparse.Namespace) -> int:
    try:
        limit = timeout_of(args.timeout)
        client = client_for(args)
        req = client.get(args.id)
        if args.wait:
            return wait_for(client, req, limit)
        code = outcome(req)
        if code < 0:
            print(f"{req['id']} is pending, waiting for {waiting_for(req)}")
            return UNDECIDED
        return code
    except GateError as exc:
        err(str(exc))
        return ERROR


def run_verify(args: argparse.Namespace) -> int:
    """0: approved and every file is an approved plan; 1: a file differs; 2: not approved yet."""
    try:
        digests = each_plan(args.plan, digest_of)
        once = run_id(args.ci_run) if args.once else None
        if args.once and once is None:
            raise GateError("--once needs the CI run's id: pass --run ID or set SIGNOFF_RUN_ID (or GITHUB_RUN_ID, …)")
        client = client_for(args)
        answer = client.verify(args.id, digests, once)
    except GateError as exc:
        err(str(exc))
        return ERROR
    ref, result = answer.get("id"), answer.get("result")
    approved = [str(d) for d in answer.get("approved_sha256") or []]
    if result == Verified.NOT_APPROVED:
        print(f"{ref} is {str(answer.get('status')).replace('_', ' ')}, not approved: do not apply")
        return UNDECIDED
    if result == Verified.EXPIRED:
        print(f"{ref}: approval expired at {when(answer.get('valid_until'))}; ask again")
        return UNDECIDED
    if result == Verified.USED:
        print(f"{ref}: the approval was already used by run {answer.get('used_by_run')}; ask again for this run")
        return UNDECIDED
    if result == Verified.MATCH:
        print(f"{ref} approved this plan (sha256 {', '.join(digests)}); apply exactly this file")
        return APPROVED
    if not approved:
        print(f"{ref} was approved without a plan, so no plan is approved: ask again with --plan")
        return DENIED
    print(f"{ref}: the plan differs from the approved one: do not apply")
    for path, digest in zip(args.plan, digests, strict=True):
        mark = "approved" if digest in approved else "NOT APPROVED"
        print(f"  {path}: sha256 {digest} ({mark})")
    print(f"  approved: sha256 {', '.join(approved)}")
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
    req.add_argument("--requester", help="Slack user ID or email of the engineer (default: $SIGNOFF_REQUESTER)")
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
        "--destructive",
        action="store_true",
        default=None,
        help="the change deletes or replaces resources; with neither (and no --plan) it is not known, which counts "
        "as destructive: an AI-assisted change then needs DESTRUCTIVE_APPROVALS seniors (2 by default)",
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

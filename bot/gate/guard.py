"""`signoff guard [request flags] -- COMMAND [ARGS…]`: run a command only once it is approved.

It asks like `signoff request --wait` and then:
  * runs COMMAND only when the request is approved (or sign-off is not required); with ``--plan``
    it verifies the plan files right before running (``--once``, for this run), so a plan that
    changed while it waited is not run;
  * passes the command's output through and exits with the command's own exit code; without
    running it: 1 on a denial (or a plan that changed), 2 on a timeout or an expired approval,
    3 on any error;
  * forwards SIGINT and SIGTERM to the command;
  * tells signoff that the command started and how it ended (audited as ``command_started`` and
    ``command_ran``); a report that fails is printed and never changes the exit code.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import uuid
from types import FrameType
from typing import Any

from bot.gate.client import ApiClient, GateError
from bot.gate.commands import (
    APPROVED,
    DENIED,
    ERROR,
    UNDECIDED,
    _body,
    _client,
    _each_plan,
    _err,
    _timeout,
    idempotency_key,
    run_id,
    status_words,
    stop_waiting,
    wait_for,
)
from bot.gate.plans import digest_of

TITLE_SHOWN = 120


def _report(client: ApiClient, ref: str, event: str, command: str, code: int | None = None) -> None:
    try:
        client.command(ref, event, command, code)
    except GateError as exc:
        _err(f"could not tell signoff the command {event} ({exc}); its exit code stands")


def _verify_plans(client: ApiClient, args: argparse.Namespace, ref: str) -> int:
    """Right before running: every --plan file is one that was approved, and the approval is usable."""
    digests = _each_plan(args.plan, digest_of)
    answer = client.verify(ref, digests, run_id(args.ci_run) or f"guard-{uuid.uuid4().hex[:12]}")
    result = answer.get("result")
    if result == "match":
        return APPROVED
    if result == "mismatch":
        print(f"{ref}: the plan changed since it was approved: not running it")
        return DENIED
    if result == "expired":
        print(f"{ref}: the approval expired before the command could run; ask again")
    elif result == "used":
        print(f"{ref}: the approval was already used by run {answer.get('used_by_run')}; ask again")
    else:
        print(f"{ref} is not approved: not running the command")
    return UNDECIDED


def _run(command: list[str]) -> int:
    """Run ``command`` with this process's terminal; SIGINT and SIGTERM go to it, not to us. The
    forwarding is in place before the command starts, so a signal sent the moment it starts is
    not lost (nor does it stop us and leave the command running); one that arrives before the
    command exists is passed on as soon as it does."""
    child: subprocess.Popen[bytes] | None = None
    early: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child is None:
            early.append(signum)
        else:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            child = subprocess.Popen(command)
        except OSError as exc:
            _err(f"cannot run {command[0]}: {exc.strerror or exc}")
            return 127 if isinstance(exc, FileNotFoundError) else 126
        for signum in early:
            child.send_signal(signum)
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


def run_guard(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else list(args.command)
    if not command:
        _err("guard needs the command to run after --, e.g. signoff guard … -- terraform apply plan.tfplan")
        return ERROR
    text = shlex.join(command)
    try:
        limit = _timeout(args.timeout)
        if not args.title:
            args.title = f"Run: {text}"[:TITLE_SHOWN]
        if not args.description:
            args.description = f"signoff guard runs, once approved:\n{text}"
        body = _body(args)
        client = _client(args)
        req = client.create(body, idempotency_key(args.idempotency_key, body))
        ref = str(req["id"])
        if req.get("status") == "pending":
            print(f"{ref}: {status_words(req)}")
        code = wait_for(client, req, limit, give_up=stop_waiting(client))
        if code != APPROVED:
            return code
        if args.plan:
            code = _verify_plans(client, args, ref)
            if code != APPROVED:
                return code
    except GateError as exc:
        _err(str(exc))
        return ERROR
    _report(client, ref, "started", text)
    ran = _run(command)
    _report(client, ref, "finished", text, ran)
    return ran


def add_parser(sub: Any, request_flags: argparse.ArgumentParser) -> None:
    """`guard` takes every flag of `request`, then ``--`` and the command."""
    guard = sub.add_parser(
        "guard",
        parents=[request_flags],
        help="ask for sign-off, wait, and run a command only once it is approved",
        epilog="exit codes: the command's own once it ran; without running it: 1 denied or the plan changed, "
        "2 timed out or the approval expired, 3 usage, configuration, auth or network error",
    )
    guard.add_argument(
        "--run",
        dest="ci_run",
        metavar="ID",
        help="this CI run's id, for verifying --plan files once (default: from the CI)",
    )
    guard.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    guard.set_defaults(run=run_guard, wait=True)

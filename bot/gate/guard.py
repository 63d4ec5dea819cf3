"""`signoff guard [request flags] -- COMMAND [ARGS…]`: run a command only once it is approved.

It asks like `signoff request --wait`, for exactly this command in exactly this directory
(both are on the request and in the reviewer's DM; another command or directory asks again),
and then:
  * exits 127 at once, asking nobody, when COMMAND is not a program it can find;
  * verifies on the server, right before running, that the approval is still usable and is for
    this command, this directory and (``--plan``) these plan files; it uses the approval up for
    this CI run (another run asks again);
  * with ``--credentials CMD``, runs CMD only then and gives what it prints to COMMAND's
    environment alone (``credentials.py``);
  * runs COMMAND, passes its output through, forwards SIGINT and SIGTERM to it, and exits with
    its own exit code; without running it: 1 on a denial (or another plan or command), 2 on a
    timeout, an expired or used-up approval, or a signal while waiting (the request is then
    given up, so nobody reviews it), 3 on any error;
  * tells signoff that the command started and how it ended (audited as ``command_started`` and
    ``command_ran``); a report that fails is printed and never changes the exit code.

Under an AI agent (``CLAUDECODE`` set, or the variable ``SIGNOFF_AGENT_VARIABLE`` names) the
agent cannot lower its own bar: see ``asking.body_from``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import uuid
from collections.abc import Mapping
from types import FrameType
from typing import Any

from bot.domain.verification import Verified
from bot.gate import credentials
from bot.gate.asking import ask, body_from, client_for, each_plan, idempotency_key, run_id, timeout_of
from bot.gate.client import ApiClient, GateError
from bot.gate.exit_codes import APPROVED, DENIED, ERROR, NOT_FOUND, UNDECIDED, err
from bot.gate.held_commands import Judge
from bot.gate.plans import digest_of
from bot.gate.waiting import SIGNALS, Stopped, ask_and_wait, stopped_by_signals

TITLE_SHOWN = 120


def _report(client: ApiClient, ref: str, event: str, command: str, code: int | None = None) -> None:
    try:
        client.command(ref, event, command, code)
    except GateError as exc:
        err(f"could not tell signoff the command {event} ({exc}); its exit code stands")


def _verify(client: ApiClient, args: argparse.Namespace, ref: str, text: str, workdir: str) -> int:
    """Right before running: the approval is usable, for this command and directory and plans."""
    digests = each_plan(args.plan, digest_of) if args.plan else []
    once = run_id(args.ci_run) or f"guard-{uuid.uuid4().hex[:12]}"
    answer = client.verify(ref, digests, once, command=text, workdir=workdir)
    result = answer.get("result")
    if result == Verified.MATCH:
        return APPROVED
    if result == Verified.MISMATCH:
        print(f"{ref}: the plan changed since it was approved: not running it")
        return DENIED
    if result == Verified.OTHER_COMMAND:
        print(f"{ref} approved another command or directory: not running this one; ask again")
        return DENIED
    if result == Verified.EXPIRED:
        print(f"{ref}: the approval expired before the command could run; ask again")
    elif result == Verified.USED:
        print(f"{ref}: the approval was already used by another run; ask again")
    else:
        print(f"{ref} is not approved: not running the command")
    return UNDECIDED


def _run(command: list[str], env: Mapping[str, str] | None = None) -> int:
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

    previous = {sig: signal.signal(sig, forward) for sig in SIGNALS}
    try:
        try:
            child = subprocess.Popen(command, env=None if env is None else dict(env))
        except OSError as exc:
            err(f"cannot run {command[0]}: {exc.strerror or exc}")
            return NOT_FOUND if isinstance(exc, FileNotFoundError) else 126
        for signum in early:
            child.send_signal(signum)
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


def _destroys(text: str) -> bool | None:
    """Whether the command destroys, as the agent hook reads it: True, None (not known), or False
    for a command the hook would let run."""
    held = Judge([]).held(text)
    if held is None:
        return False
    return True if held.destructive else None


def run_guard(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else list(args.command)
    if not command:
        err("guard needs the command to run after --, e.g. signoff guard … -- terraform apply plan.tfplan")
        return ERROR
    if shutil.which(command[0]) is None:
        err(f"cannot run {command[0]}: no such command; nobody was asked")
        return NOT_FOUND
    text = shlex.join(command)
    workdir = os.path.realpath(os.getcwd())
    try:
        limit = timeout_of(args.timeout)
        if not args.title:
            args.title = f"Run: {text}"[:TITLE_SHOWN]
        body = body_from(args, _destroys(text))
        body["command"], body["workdir"] = text, workdir
        client = client_for(args)
        run = run_id(args.ci_run)
        key = idempotency_key(args.idempotency_key, body)
        chained = not args.idempotency_key and run is not None
        req, code = ask_and_wait(
            lambda: ask(client, body, key, run, chained),
            client,
            limit,
            "guard",
            lambda asked: f"{asked['id']}: waiting for sign-off to run {text} in {workdir}",
        )
        if req is None or code != APPROVED:
            return code
        ref = str(req["id"])
        code = _verify(client, args, ref, text, workdir)
        if code != APPROVED:
            return code
        env = None
        if args.credentials:
            try:
                with stopped_by_signals():
                    released = credentials.fetch(args.credentials, os.environ)
            except Stopped as stopped:
                print(f"{ref}: stopped by {stopped} while fetching credentials; the command did not run")
                return 128 + stopped.signum
            err(f"credentials for the command: {', '.join(sorted(released))}")
            env = {**os.environ, **released}
    except GateError as exc:
        err(str(exc))
        return ERROR
    _report(client, ref, "started", text)
    ran = _run(command, env)
    _report(client, ref, "finished", text, ran)
    return ran


def add_parser(sub: Any, request_flags: argparse.ArgumentParser) -> None:
    """`guard` takes every flag of `request`, then ``--`` and the command."""
    guard = sub.add_parser(
        "guard",
        parents=[request_flags],
        help="ask for sign-off, wait, and run a command only once it is approved",
        epilog="exit codes: the command's own once it ran (127: no such command, nobody asked); without running "
        "it: 1 denied, or another plan or command; 2 timed out, stopped by a signal, or the approval expired or "
        "was used; 3 usage, configuration, auth or network error, or the credentials command failed",
    )
    guard.add_argument(
        "--run",
        dest="ci_run",
        metavar="ID",
        help="this CI run's id, for using the approval once (default: from the CI)",
    )
    guard.add_argument(
        "--credentials",
        metavar="CMD",
        help="a shell command that prints production credentials (KEY=value lines, a JSON object, or aws sts "
        "JSON); run only after the approval is verified, its output given to the command's environment alone",
    )
    guard.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    guard.set_defaults(run=run_guard, wait=True)

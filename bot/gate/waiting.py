"""Waiting for a decision, and what happens when the wait gives up."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.models import Status
from bot.gate.answers import outcome, waiting_for
from bot.gate.client import ApiClient, GateError
from bot.gate.exit_codes import UNDECIDED, err

POLL_SECONDS = 25
SIGNALS = (signal.SIGINT, signal.SIGTERM)
GIVE_UP_SECONDS = 10.0  # how long a stopped process still tries to tell signoff it gave up


class Stopped(Exception):
    """SIGINT or SIGTERM arrived while asking or waiting."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Stopped``, once: a second one while the first is handled (the
    request being given up) is ignored. The previous handlers come back after."""
    raised = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def ask_and_wait(
    ask_once: Callable[[], dict[str, Any]],
    client: ApiClient,
    limit: timedelta,
    who: str,
    pending: Callable[[dict[str, Any]], str],
) -> tuple[dict[str, Any] | None, int]:
    """Ask (``ask_once`` is idempotent: asked again, it finds the same request), print
    ``pending(req)`` while it is pending, and wait: the request and the exit code. SIGINT and
    SIGTERM from the ask on give the request up, and end with 128 + the signal's number."""
    req: dict[str, Any] | None = None
    with stopped_by_signals():
        try:
            req = ask_once()
            if req.get("status") == Status.PENDING:
                print(pending(req), flush=True)
            return req, wait_for(client, req, limit, give_up=stop_waiting(client))
        except Stopped as stopped:  # before the answer came, asked again: the same key finds it
            return req, _give_up_after_signal(client, req if req is not None else ask_once, limit, stopped, who)


def _give_up_after_signal(
    client: ApiClient, req: dict[str, Any] | Callable[[], dict[str, Any]], limit: timedelta, stopped: Stopped, who: str
) -> int:
    """A cancelled job leaves no live request: the request is given up, and the exit code is the
    signal's (128 + its number), whatever the request's state. Stopped while asking, ``req`` asks
    again with the same idempotency key, which finds the request if the server made it already."""
    client.deadline = time.monotonic() + GIVE_UP_SECONDS
    try:
        found = req() if callable(req) else req
    except GateError as exc:
        err(f"stopped by {stopped} while asking; could not ask signoff whether it made the request ({exc})")
        return 128 + stopped.signum
    stop_waiting(client, f"was given up: {who} stopped by {stopped}")(found, limit)
    return 128 + stopped.signum


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
        err(f"{req['id']}: waiting for {waiting_for(req)} ({so_far})")
        left = (limit - waited).total_seconds()
        if left <= 0:
            if give_up is not None:
                return give_up(req, limit)
            print(f"{req['id']} timed out after {format_duration(limit)}; still pending, not approved")
            return UNDECIDED
        req = client.get(str(req["id"]), wait=min(POLL_SECONDS, max(1.0, left)))


def stop_waiting(client: ApiClient, why: str = "") -> Callable[[dict[str, Any], timedelta], int]:
    """The wait gave up (a timeout, or ``why``: a signal): the request is expired on the server, so
    nobody reviews a change this pipeline will not apply. If the server cannot be told, the wait
    still ends as not approved."""

    def give_up(req: dict[str, Any], limit: timedelta) -> int:
        ref = str(req["id"])
        try:
            ended = client.give_up(ref)
        except GateError as exc:
            err(f"could not tell signoff this pipeline stopped waiting ({exc})")
            ended = req
        if ended.get("status") not in (None, Status.PENDING, Status.EXPIRED):
            return outcome(ended)  # decided in the last moment
        stopped = why or f"timed out after {format_duration(limit)}"
        print(f"{ref} {stopped}: not approved; it expired, so nobody reviews it now")
        return UNDECIDED

    return give_up

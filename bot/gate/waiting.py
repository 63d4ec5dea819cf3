"""Waiting for a decision, and what happens when the wait gives up."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.models import Status
from bot.gate.answers import outcome, waiting_for
from bot.gate.client import ApiClient, GateError
from bot.gate.exit_codes import UNDECIDED, err

POLL_SECONDS = 25


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

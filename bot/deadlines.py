"""Deadlines of the work in hand, and the queueing delays it meets.

A Slack interaction or an API call gets a deadline when it arrives (``within``). Whatever waits
in a queue on its behalf (the SQLite write lock, a PostgreSQL connection, a reader connection)
waits at most until that deadline less ``MARGIN`` (what the work and the answer still need), and
then gives up with ``Busy``, having stored nothing. Work with no deadline (sweeps, the outbox)
waits as long as it takes. The deadline rides in a context variable, so it follows the work
through every call without being passed.

A leaf module: the store reads it, and knows nothing of Slack or HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

MARGIN = 0.4  # seconds a transaction and its answer need once the wait is over

_deadline: ContextVar[float | None] = ContextVar("signoff_deadline", default=None)


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Work done inside must be answered within ``seconds`` from now."""
    token = _deadline.set(asyncio.get_running_loop().time() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def wait_budget() -> float | None:
    """How long the work in hand may still wait in a queue (at least 0), or None: no deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - MARGIN - asyncio.get_running_loop().time())

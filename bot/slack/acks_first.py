"""Acks first. While Slack waits for an answer (3 s at most), background delivery steps aside.

The HTTP bridge and the Socket Mode handler mark each interaction in flight; the outbox
waits for a quiet moment before each delivery, but never longer than ``MAX_YIELD``, so
it cannot starve.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

MAX_YIELD = 0.05  # seconds the outbox waits at most before each delivery


class AckPriority:
    def __init__(self) -> None:
        self._in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        self._in_flight += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._quiet.set()

    async def quiet(self) -> None:
        """Return when no interaction is being answered, or after MAX_YIELD."""
        if self._in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), MAX_YIELD)

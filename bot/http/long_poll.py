"""Tells long-polling readers that a request changed, without a busy loop.

In-process changes wake waiters at once; a change made by another process on the
same database is seen at the next poll (``POLL_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib

POLL_SECONDS = 1.0


class ChangeFeed:
    def __init__(self) -> None:
        self._events: dict[int, set[asyncio.Event]] = {}
        self._closed = False

    def notify(self, request_id: int) -> None:
        for event in self._events.get(request_id, ()):
            event.set()

    def close(self) -> None:
        """The process is stopping: every waiter answers now with what it has."""
        self._closed = True
        self.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def notify_all(self) -> None:
        for events in self._events.values():
            for event in events:
                event.set()

    async def wait(self, request_id: int, timeout: float) -> None:
        """Return when request_id changes, or after min(timeout, POLL_SECONDS); at once when closed."""
        if self._closed:
            return
        event = asyncio.Event()
        waiters = self._events.setdefault(request_id, set())
        waiters.add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=max(0.0, min(timeout, POLL_SECONDS)))
        finally:
            waiters.discard(event)
            if not waiters:
                self._events.pop(request_id, None)

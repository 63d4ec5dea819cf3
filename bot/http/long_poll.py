"""Wakes long-polling pipelines when their request changes, without a poll per waiter.

A commit in this process wakes its waiters at once (the store's commit signal); on
PostgreSQL, another replica's commit arrives by NOTIFY. Behind both, one ``watch`` task per
process reads the audit trail's new rows every ``WATCH_SECONDS`` (every change of a request
writes one) and wakes their requests' waiters: so a change made by another process on the
same SQLite file, or a notification lost while a connection was down, is seen within that
time, at the cost of one indexed query, however many pipelines wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.store.unit_of_work import Store

WATCH_SECONDS = 0.5
log = logging.getLogger(__name__)


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

    @property
    def waiting(self) -> int:
        return sum(len(events) for events in self._events.values())

    def notify_all(self) -> None:
        for events in self._events.values():
            for event in events:
                event.set()

    async def wait(self, request_id: int, timeout: float) -> None:
        """Return when request_id changes, or after ``timeout``; at once when closed."""
        if self._closed:
            return
        event = asyncio.Event()
        waiters = self._events.setdefault(request_id, set())
        waiters.add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=max(0.0, timeout))
        finally:
            waiters.discard(event)
            if not waiters:
                self._events.pop(request_id, None)

    async def watch(self, store: Store) -> None:
        """Runs until cancelled: wake the waiters of every request the audit trail says changed."""
        async with store.read() as r:
            head = await r.audit.head()
        seen = head[0] if head else 0
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                async with store.read() as r:
                    seen, changed = await r.audit.requests_changed_since(seen)
            except Exception as exc:  # the database is away: waiters keep waiting, the next round retries
                log.debug("long-poll watch could not read the audit trail: %s", exc)
                continue
            for request_id in changed:
                self.notify(request_id)

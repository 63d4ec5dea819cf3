"""How replicas on one PostgreSQL database hear each other's commits: ``NOTIFY signoff_changes``
with the ids of the requests that changed, listened for by every replica.

The notification is sent after the commit, by a task of its own on a connection of its own,
never inside a write transaction: PostgreSQL serialises notifying commits cluster-wide through
their WAL flush, so a ``NOTIFY`` in the transaction made every writer on every replica queue
behind every other. Commits in quick succession share one notification. A notification that is
lost (the connection dropped, the process ended just after its commit) costs only latency:
every process also reads the audit trail's new rows every half second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

import psycopg

from bot.store.executor import Changes

log = logging.getLogger(__name__)

CHANNEL = "signoff_changes"
MAX_NOTIFIED_IDS = 200  # a larger change wakes every waiter instead (NOTIFY payloads are small)
CONNECT_SECONDS = 5
FLUSH_SECONDS = 2.0  # at close: what is still untold is sent within this, or left to the poll


def payload(me: str, ids: set[int], everything: bool = False) -> str:
    if everything or len(ids) > MAX_NOTIFIED_IDS:
        return json.dumps({"from": me, "all": True})
    return json.dumps({"from": me, "r": sorted(ids)})


def parse(me: str, text: str) -> Changes:
    """Changes another replica committed (nothing for our own); its outbox rows are its own to deliver."""
    try:
        body = json.loads(text)
        if body.get("from") == me:
            return Changes()
        if body.get("all"):
            return Changes(all_requests=True)
        return Changes(frozenset(int(i) for i in body.get("r", [])))
    except (ValueError, TypeError, AttributeError):
        return Changes(all_requests=True)


class Notifier:
    """Sends the ids of requests this process changed, after their commits, batched."""

    def __init__(self, url: str, me: str) -> None:
        self._url = url
        self._me = me
        self._untold: set[int] = set()
        self._everything = False  # too many to name: every waiter should look again
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0  # notifications sent

    def tell(self, ids: set[int]) -> None:
        """Called after a commit; never waits."""
        if not ids:
            return
        if not self._everything:
            self._untold |= ids
            if len(self._untold) > MAX_NOTIFIED_IDS:  # one "look again" says it all; the set stays small
                self._everything, self._untold = True, set()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="pg-notify")

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=CONNECT_SECONDS
                ) as conn:
                    delay = 1.0
                    while True:
                        await self._wake.wait()
                        await self._send(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # other replicas hear of it from their poll until this reconnects
                log.warning("telling other replicas of changes failed (%s); retrying in %.0fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)

    async def _send(self, conn: psycopg.AsyncConnection[object]) -> None:
        self._wake.clear()
        ids, everything = self._untold, self._everything
        self._untold, self._everything = set(), False
        if ids or everything:
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(self._me, ids, everything)))
            self.sent += 1

    async def close(self) -> None:
        """Stop; what is still untold is sent once more, briefly (a command-line tool's change)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if not (self._untold or self._everything):
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(FLUSH_SECONDS):
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=CONNECT_SECONDS
                ) as conn:
                    await self._send(conn)


async def listen(url: str, me: str, heard: Callable[[Changes], None]) -> None:
    """Wake local waiters when another replica commits; reconnect after any loss. Runs until cancelled."""
    delay = 1.0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                delay = 1.0
                async for note in conn.notifies():
                    heard(parse(me, note.payload))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # waiters fall back on their poll until this reconnects
            log.warning("listening for other replicas' changes failed (%s); retrying in %.0fs", exc, delay)
        await asyncio.sleep(delay)
        delay = min(30.0, delay * 2)

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
from collections.abc import Awaitable, Callable

import psycopg

from bot.store.executor import Changes

log = logging.getLogger(__name__)
Conn = psycopg.AsyncConnection[tuple[object, ...]]

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
        async def send_when_told(conn: Conn) -> None:
            while True:
                await self._wake.wait()
                await self._send(conn)

        # Until it reconnects, other replicas hear of changes from their poll.
        await _kept_connected(self._url, "telling other replicas of changes", send_when_told)

    async def _send(self, conn: Conn) -> None:
        self._wake.clear()
        ids, everything = self._untold, self._everything
        self._untold, self._everything = set(), False
        if ids or everything:
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(self._me, ids, everything)))

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
            async with asyncio.timeout(FLUSH_SECONDS), await _connect(self._url) as conn:
                await self._send(conn)


async def listen(url: str, me: str, heard: Callable[[Changes], None]) -> None:
    """Wake local waiters when another replica commits. Runs until cancelled."""

    async def hear(conn: Conn) -> None:
        await conn.execute(f"LISTEN {CHANNEL}")
        async for note in conn.notifies():
            heard(parse(me, note.payload))

    # Until it reconnects, waiters fall back on their poll.
    await _kept_connected(url, "listening for other replicas' changes", hear)


async def _connect(url: str) -> Conn:
    return await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=CONNECT_SECONDS)


async def _kept_connected(url: str, what: str, use: Callable[[Conn], Awaitable[None]]) -> None:
    """Run ``use`` on a connection of its own, connecting again after any loss (1 s, then twice as
    long each time up to 30 s). Runs until cancelled."""
    delay = 1.0
    while True:
        try:
            async with await _connect(url) as conn:
                delay = 1.0
                await use(conn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s failed (%s); retrying in %.0fs", what, exc, delay)
        await asyncio.sleep(delay)
        delay = min(30.0, delay * 2)

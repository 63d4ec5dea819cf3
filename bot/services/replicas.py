"""Which replicas are running, and whether they read the same roster file.

Each replica writes a heartbeat every ``BEAT_SECONDS`` with the digest of the roster file it
reads (group members are shared through the database, so only the file can differ). A replica
not heard of for ``GONE_AFTER`` is gone. When the live replicas' digests differ, each says so in
its log (once per change), in ``/readyz`` and in `/signoff roster`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.errors import StorageFailure
from bot.domain.models import Roster
from bot.store.unit_of_work import Store, Tx

log = logging.getLogger(__name__)
BEAT_SECONDS = 5.0
GONE_AFTER = timedelta(seconds=30)
FORGET_AFTER = timedelta(days=1)  # rows of replicas long gone are removed


def this_process() -> str:
    """``host:pid``: this process, as claims and heartbeats name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def replica_id() -> str:
    """``host:pid:random``: the host and process a claim or a heartbeat comes from."""
    return f"{this_process()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class RosterAgreement:
    mine: str  # this replica's roster digest
    replicas: dict[str, str]  # every live replica (this one included) -> its digest

    @property
    def agree(self) -> bool:
        return len(set(self.replicas.values()) | {self.mine}) == 1

    def describe(self) -> str:
        """One sentence for a person: do the replicas read the same roster file?"""
        count = len(self.replicas)
        if self.agree:
            return "every replica reads the same roster file" if count > 1 else "one replica is running"
        others = sorted(r for r, d in self.replicas.items() if d != self.mine)
        return (
            f"{len(others)} of {count} replicas read a different roster file ({', '.join(others)}); "
            "copy the same file to every replica"
        )


class ReplicaRegistry:
    def __init__(self, store: Store, clock: Clock, file_roster: Callable[[], Roster], me: str) -> None:
        self._store = store
        self._clock = clock
        self._file = file_roster
        self.me = me
        self.host = me.partition(":")[0]
        self._started: datetime | None = None
        self._said: tuple[tuple[str, str], ...] | None = None  # the disagreement last logged

    async def beat(self) -> None:
        now = self._clock.now()
        self._started = self._started or now
        digest = self._file().digest()
        started = self._started

        async def beat(tx: Tx) -> None:
            await tx.replicas.beat(self.me, self.host, started, now, digest)
            await tx.replicas.forget_before(now - FORGET_AFTER)

        await self._store.transact(beat, durable=False)

    async def agreement(self) -> RosterAgreement:
        async with self._store.read() as r:
            alive = await r.replicas.alive(self._clock.now() - GONE_AFTER)
        mine = self._file().digest()
        return RosterAgreement(mine, {**{rep.id: rep.roster_digest for rep in alive}, self.me: mine})

    async def leave(self) -> None:
        async def leave(tx: Tx) -> None:
            await tx.replicas.gone(self.me)

        await self._store.transact(leave, durable=False)

    async def keep_beating(self) -> None:
        """Runs until cancelled: heartbeat, and say once when the replicas' roster files differ."""
        while True:
            try:
                await self.beat()
                seen = await self.agreement()
                differ = tuple(sorted(seen.replicas.items())) if not seen.agree else None
                if differ != self._said:
                    if differ is not None:
                        log.warning("roster: %s (this replica's digest %s)", seen.describe(), seen.mine)
                    elif self._said is not None:
                        log.info("roster: every replica reads the same roster file again")
                    self._said = differ
            except StorageFailure as err:
                log.warning("replica heartbeat failed: %s", err.detail)
            await asyncio.sleep(BEAT_SECONDS)

"""Refusals of callers who are not authenticated (a bad API token), recorded without letting
anyone who can reach the port grow the database without bound.

The first refusal from a source in each minute is an audit row at once; further ones from the
same source in that minute are counted and written as one row (``repeated``) when the minute is
over. At most ``MAX_SOURCES`` sources a minute get rows of their own; beyond that they are
counted together under ``api:other-sources``. So a flood writes a bounded number of rows per
minute, and every refused call stays visible in the audit as a row or a count.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.domain.audit import AuditEntry
from bot.domain.errors import SignoffError
from bot.services.deps import Deps
from bot.store.unit_of_work import Tx

MAX_SOURCES = 20
OTHER_SOURCES = "api:other-sources"


class BadTokenLog:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._minute: datetime | None = None
        self._repeats: dict[str, tuple[str, str, int]] = {}  # source -> (attempt, code, repeats)
        self._lock = asyncio.Lock()

    async def refuse(self, source: str, attempt: str, err: SignoffError) -> None:
        now = self._deps.clock.now()
        minute = now.replace(second=0, microsecond=0)
        code = getattr(err, "code", "refused")
        async with self._lock:
            if self._minute != minute:
                await self._flush()
                self._minute = minute
            if source not in self._repeats and len(self._repeats) >= MAX_SOURCES:
                source = OTHER_SOURCES
            seen = self._repeats.get(source)
            if seen is not None:
                self._repeats[source] = (seen[0], seen[1], seen[2] + 1)
                return
            self._repeats[source] = (attempt, code, 0)

            async def record(tx: Tx) -> None:
                await tx.audit.append(now, AuditEntry(source, "refused", None, code, {"attempt": attempt}))

            await self._deps.store.transact(record)

    async def flush(self) -> None:
        """Write the counts still held (at shutdown)."""
        async with self._lock:
            await self._flush()

    async def _flush(self) -> None:
        counted = [(source, seen) for source, seen in self._repeats.items() if seen[2]]
        self._repeats = {}
        if not counted or self._minute is None:
            return
        minute = self._minute.isoformat()

        async def record(tx: Tx) -> None:
            for source, (attempt, code, repeats) in counted:
                details = {"attempt": attempt, "repeated": repeats, "minute": minute}
                await tx.audit.append(self._deps.clock.now(), AuditEntry(source, "refused", None, code, details))

        await self._deps.store.transact(record)

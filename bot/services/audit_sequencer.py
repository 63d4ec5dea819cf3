"""The audit trail's sequencer: write transactions insert their audit rows unsealed, and this
chains committed rows in order, in batches, every ``SEAL_EVERY_SECONDS`` on every process (a
try-lock lets one seal at a time; the others find nothing to do). So no write transaction holds
a lock every writer needs while it waits for the database, the way Certificate Transparency logs
queue entries and then sequence them.

A row whose content changed before it was sealed (its row_hash no longer matches) is never
sealed, nor anything after it: ``signoff audit verify`` names it, the unsealed age on
``/metrics`` grows, and every turn logs it.
"""

from __future__ import annotations

import asyncio
import logging

from bot.domain.audit import Sealed
from bot.domain.errors import Unavailable
from bot.store.unit_of_work import Store, Tx

log = logging.getLogger(__name__)

BATCH = 250  # rows sealed per transaction: on SQLite a batch runs on the loop, a few milliseconds
SEAL_EVERY_SECONDS = 0.5


async def seal_audit(store: Store) -> Sealed:
    """Seal every committed unsealed row (a batch per transaction). Reads first: with nothing to
    seal, nothing is locked or written."""
    async with store.read() as r:
        if not await r.audit.any_unsealed():
            return Sealed()
    total = 0

    async def step(tx: Tx) -> Sealed:
        return await tx.audit.seal(BATCH)

    while True:
        done = await store.transact(step)
        total += done.rows
        if done.elsewhere or done.changed is not None or done.rows < BATCH:
            return Sealed(total, done.elsewhere, done.changed)


class AuditSequencer:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._told: int | None = None  # the changed row already logged

    async def turn(self) -> Sealed:
        try:
            sealed = await seal_audit(self._store)
        except Unavailable as err:  # the database is busy or away: the next turn seals it
            log.debug("the audit sequencer could not run: %s", err)
            return Sealed()
        if sealed.changed is not None and sealed.changed != self._told:
            self._told = sealed.changed
            log.error(
                "audit row %d was changed after it was written and before it was sealed; sealing stops there",
                sealed.changed,
            )
        return sealed

    async def run(self) -> None:
        """Runs until cancelled."""
        while True:
            await self.turn()
            await asyncio.sleep(SEAL_EVERY_SECONDS)

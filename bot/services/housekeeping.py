"""Housekeeping that grows with the data, done a batch per transaction so none holds the event
loop: forgetting Slack delivery keys past Slack's replay window."""

from __future__ import annotations

from bot.services.deps import Deps
from bot.store.unit_of_work import Tx

BATCH = 1000


async def prune_receipts(deps: Deps) -> int:
    """Forget delivery keys older than ``RECEIPT_KEEP``, ``BATCH`` at a time; returns how many."""
    now = deps.clock.now()
    pruned = 0
    while True:

        async def prune(tx: Tx) -> int:
            return await tx.receipts.prune(now, BATCH)

        done = await deps.store.transact(prune, durable=False)
        pruned += done
        if done < BATCH:
            return pruned

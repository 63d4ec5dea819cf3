"""Fold the reviewer-load ledger into ``reviewer_stats``, a batch per transaction.

Every assignment change appends a row to the ledger (see the store's migration 0012), so no
two requests wait on a reviewer's counter; this keeps the ledger short, so reading a
reviewer's load stays a handful of rows. One replica folds at a time; a fold that finds
another folding leaves it to that one.
"""

from __future__ import annotations

from bot.store.unit_of_work import Store, Tx

BATCH = 500
JOB = "reviewer-load-fold"


async def fold_reviewer_load(store: Store) -> int:
    """Fold until the ledger is empty (or another replica is folding); returns the rows folded."""
    folded = 0
    while True:

        async def fold(tx: Tx) -> int | None:
            if not await tx.facts.try_lock_job(JOB):
                return None
            return await tx.assignments.fold_load(BATCH)

        done = await store.transact(fold, durable=False)
        if done is None:
            return folded
        folded += done
        if done < BATCH:
            return folded

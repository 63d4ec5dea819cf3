"""Small remembered facts (policy start, last summary slot), Slack delivery keys, and
Workflow Builder step links."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.errors import RepeatedDelivery
from bot.domain.timestamps import utc_text
from bot.store.executor import Executor

RECEIPT_KEEP = timedelta(hours=1)  # well past Slack's 5-minute replay window


class Facts:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def get(self, key: str) -> str | None:
        row = await self._ex.one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def get_many(self, keys: tuple[str, ...]) -> dict[str, str]:
        marks = ", ".join("?" * len(keys))
        rows = await self._ex.many(f"SELECT key, value FROM meta WHERE key IN ({marks})", keys)
        return {str(r["key"]): str(r["value"]) for r in rows}

    async def put(self, key: str, value: str) -> None:
        await self._ex.send(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def delete(self, key: str) -> None:
        await self._ex.send("DELETE FROM meta WHERE key = ?", (key,))

    async def lock_job(self, name: str) -> None:
        """Wait until no other transaction (of any replica) holds the job lock ``name``; hold it to commit."""
        await self._ex.lock(f"job:{name}")

    async def try_lock_job(self, name: str) -> bool:
        """Hold the job lock ``name`` to commit, or False at once when another transaction holds it."""
        return await self._ex.try_lock(f"job:{name}")


class Receipts:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def remember(self, key: str, now: datetime) -> None:
        """Raise RepeatedDelivery when ``key`` was already handled."""
        changed = await self._ex.run(
            "INSERT INTO deliveries (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, utc_text(now))
        )
        if changed != 1:
            raise RepeatedDelivery(key)

    async def seen(self, key: str) -> bool:
        return await self._ex.one("SELECT 1 AS one FROM deliveries WHERE key = ?", (key,)) is not None

    async def prune(self, now: datetime, limit: int) -> int:
        """Forget up to ``limit`` keys older than ``RECEIPT_KEEP``; returns how many."""
        return await self._ex.run(
            "DELETE FROM deliveries WHERE key IN (SELECT key FROM deliveries WHERE seen_at < ? LIMIT ?)",
            (utc_text(now - RECEIPT_KEEP), limit),
        )


class WorkflowSteps:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def link(self, request_id: int, execution_id: str) -> None:
        await self._ex.send(
            "INSERT INTO workflow_steps (request_id, execution_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (request_id, execution_id),
        )

    async def execution_of(self, request_id: int) -> str | None:
        row = await self._ex.one("SELECT execution_id FROM workflow_steps WHERE request_id = ?", (request_id,))
        return str(row["execution_id"]) if row else None

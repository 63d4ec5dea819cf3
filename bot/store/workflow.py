"""Which Workflow Builder step execution asked for a request."""

from __future__ import annotations

from bot.store.db import Conn, Database, one


async def link(conn: Conn, request_id: int, execution_id: str) -> None:
    await conn.execute(
        "INSERT INTO workflow_steps (request_id, execution_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (request_id, execution_id),
    )


async def execution_of(conn: Conn, request_id: int) -> str | None:
    row = await one(conn, "SELECT execution_id FROM workflow_steps WHERE request_id = ?", (request_id,))
    return str(row["execution_id"]) if row else None


async def execution_read(db: Database, request_id: int) -> str | None:
    row = await db.fetchone("SELECT execution_id FROM workflow_steps WHERE request_id = ?", (request_id,))
    return str(row["execution_id"]) if row else None

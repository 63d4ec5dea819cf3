"""Small remembered facts, such as when the policy first started."""

from __future__ import annotations

from bot.store.db import Conn, one


async def get_in(conn: Conn, key: str) -> str | None:
    row = await one(conn, "SELECT value FROM meta WHERE key = ?", (key,))
    return str(row["value"]) if row else None


async def put(conn: Conn, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )

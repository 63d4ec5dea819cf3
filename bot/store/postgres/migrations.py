"""Numbered SQL migrations for PostgreSQL, applied under an advisory lock.

Several replicas starting at once take turns on the lock, so each migration runs once.
``schema_version`` records the last one. A database written by a newer signoff is refused,
and so is a database that holds another application's tables.

Numbers follow SQLite's: 0001 is the whole schema of SQLite's 0001 to 0010, and from 0011 on
every change is one file of the same name on each backend. Databases migrated before that
numbering recorded 0011 as version 2; they are read as 11.
"""

from __future__ import annotations

import re
from importlib import resources

import psycopg

from bot.domain.errors import ConfigurationError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
MIGRATION_LOCK = 0x5169_6E0F_F000_0001  # any fixed number; only signoff takes it
RENUMBERED = {2: 11}  # versions recorded under the earlier numbering


def available() -> list[tuple[int, str]]:
    folder = resources.files("bot.store.postgres").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(conn: psycopg.AsyncConnection[object]) -> int:
    """Bring the schema up to date; returns the version now in force. ``conn`` is in autocommit."""
    steps = available()
    latest = steps[-1][0] if steps else 0
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        cur = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
        row = await cur.fetchone()
        if not (row and row[0]):  # type: ignore[index]
            cur = await conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                " ORDER BY table_name LIMIT 3"
            )
            foreign = [str(r[0]) for r in await cur.fetchall()]  # type: ignore[index]
            if foreign:
                raise ConfigurationError(
                    "DATABASE_URL",
                    f"the database holds another application's tables ({', '.join(foreign)}), not signoff's; "
                    "point DATABASE_URL at a new database.",
                )
            await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
        cur = await conn.execute("SELECT version FROM schema_version")
        row = await cur.fetchone()
        current = int(row[0]) if row else 0  # type: ignore[index]
        if current in RENUMBERED:
            current = RENUMBERED[current]
            await conn.execute("UPDATE schema_version SET version = %s", (current,))
        if current > latest:
            raise ConfigurationError(
                "DATABASE_URL",
                f"the database has schema version {current}, newer than this signoff knows ({latest}); "
                "upgrade signoff or point DATABASE_URL at another database.",
            )
        for version, sql in steps:
            if version <= current:
                continue
            async with conn.transaction():
                await conn.execute(sql.encode())
                await conn.execute("UPDATE schema_version SET version = %s", (version,))
            current = version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

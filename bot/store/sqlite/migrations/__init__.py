"""Numbered SQL migrations, applied at start. ``PRAGMA user_version`` records the last one.

Running them twice is a no-op. A database written by a newer signoff is refused.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources

from bot.domain.errors import ConfigurationError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str]]:
    found = []
    for entry in resources.files(__package__).iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the version now in force."""
    steps = available()
    latest = steps[-1][0] if steps else 0
    row = conn.execute("PRAGMA user_version").fetchone()
    current = int(row[0]) if row else 0
    if current == 0:
        foreign = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 3"
            ).fetchall()
        ]
        if foreign:
            raise ConfigurationError(
                "DATABASE_URL",
                f"the file holds another application's tables ({', '.join(foreign)}), not signoff's; "
                "point DATABASE_URL at a new file.",
            )
    if current > latest:
        raise ConfigurationError(
            "DATABASE_URL",
            f"the database has schema version {current}, newer than this signoff knows ({latest}); "
            "upgrade signoff or point DATABASE_URL at another file.",
        )
    for version, sql in steps:
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            row = conn.execute("PRAGMA user_version").fetchone()
            if row and int(row[0]) >= version:
                conn.execute("ROLLBACK")
                current = int(row[0])
                continue
            # executescript would COMMIT on its own; run statements one by one instead.
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _statements(sql: str) -> list[str]:
    """Split a script into statements; triggers keep their BEGIN ... END bodies whole."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines():
        stripped = line.split("--", 1)[0]
        if not stripped.strip():
            continue
        buf += stripped + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out

"""The database each benchmark section runs on: a SQLite file, or a fresh PostgreSQL database.

``--database postgresql://user@host:5432/postgres`` names a server (and a database to connect
to while creating others); each section gets its own database there, dropped at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg


class Databases:
    def __init__(self, work: Path, server: str | None) -> None:
        self.work = work
        self.server = server
        self._created: list[str] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.server else "sqlite"

    def fresh(self, name: str) -> str:
        """The URL of a new, empty database for ``name``."""
        if self.server is None:
            path = self.work / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{path}"
        db = f"signoff_bench_{name.replace('-', '_')}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
        self._created.append(db)
        return f"{self.server.rpartition('/')[0]}/{db}"

    def drop_all(self) -> None:
        if self.server is None:
            return
        with psycopg.connect(self.server, autocommit=True) as conn:
            for db in self._created:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self._created.clear()


class _Pg:
    """Enough of a DB-API connection for the seeders, with SQLite's ``?`` placeholders."""

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params or None)  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)  # type: ignore[arg-type]

    def cursor(self) -> Any:
        return self._conn.cursor()

    def commit(self) -> None:
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """A plain connection to ``url`` (SQLite or PostgreSQL) for seeding and counting."""
    if url.startswith("sqlite:///"):
        conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode = WAL")
    else:
        conn = _Pg(url)
    try:
        yield conn
    finally:
        conn.close()


def pending_outbox(url: str) -> int:
    with connect(url) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0])


def after_seeding(url: str) -> None:
    """Ids inserted explicitly: PostgreSQL's identity continues after them."""
    if url.startswith("sqlite:///"):
        return
    with connect(url) as conn:
        conn.execute("SELECT setval(pg_get_serial_sequence('requests', 'id'), (SELECT MAX(id) FROM requests))")
        conn.commit()

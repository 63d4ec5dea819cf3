"""Storage behind one seam (``unit_of_work``): SQLite by default, PostgreSQL for replicas."""

from __future__ import annotations

from bot.store.unit_of_work import Store
from bot.store.urls import POSTGRES, check_url, sqlite_path


def store_for(url: str, tool: bool = False) -> Store:
    """The backend DATABASE_URL names (not yet opened). ``tool``: for command-line tools that
    read an existing database (audit, copy source): nothing is created or migrated."""
    check_url(url)
    path = sqlite_path(url)
    if path is not None:
        from bot.store.sqlite import SqliteStore

        return SqliteStore(path, tool=tool)
    assert url.startswith(POSTGRES)
    from bot.store.postgres import PostgresStore

    return PostgresStore(url, tool=tool)

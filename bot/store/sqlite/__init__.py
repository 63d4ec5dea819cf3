"""The embedded backend: one SQLite file, WAL, one writer per process behind a lock."""

from bot.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]

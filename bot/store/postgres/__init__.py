"""The replicated backend: PostgreSQL 15+, for several ``signoff serve`` processes on one database."""

from bot.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]

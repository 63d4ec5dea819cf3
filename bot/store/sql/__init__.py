"""The SQL both backends share, written once.

Repositories write portable SQL with ``?`` placeholders. Each backend's executor adapts
the few differences: PostgreSQL turns ``?`` into ``%s`` and drops SQLite's ``INDEXED BY``
hints; SQLite drops ``FOR UPDATE`` / ``SKIP LOCKED``, which its single writer makes
unnecessary. Both schemas match column for column (timestamps are fixed-width UTC text,
flags are 0/1 integers), so ``signoff db copy`` is a straight copy and the audit chain
hashes the same bytes on both. ``"user"`` is quoted: it is a reserved word in PostgreSQL.
"""

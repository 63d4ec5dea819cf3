"""SQLite's live schema, from sqlite_master and the table and index PRAGMAs."""

from __future__ import annotations

from bot.store.executor import Executor
from bot.store.schema import Column, Index, Schema, Table, normal_default


async def read_schema(ex: Executor) -> Schema:
    names = [
        str(r["name"])
        for r in await ex.many("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    tables: dict[str, Table] = {}
    for name in names:  # names come from sqlite_master, never from input
        info = await ex.many(f"PRAGMA table_info({name})")
        key = tuple(str(r["name"]) for r in sorted((r for r in info if r["pk"]), key=lambda r: int(r["pk"])))
        columns = tuple(
            Column(str(r["name"]), bool(r["notnull"]) or str(r["name"]) in key, normal_default(r["dflt_value"]))
            for r in sorted(info, key=lambda r: int(r["cid"]))
        )
        parents = frozenset(str(r["table"]) for r in await ex.many(f"PRAGMA foreign_key_list({name})"))
        tables[name] = Table(name, columns, key, parents)
    indexes: dict[str, Index] = {}
    for row in await ex.many("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"):
        cols = await ex.many(f"PRAGMA index_info({row['name']})")
        names_in = tuple(str(c["name"]) for c in sorted(cols, key=lambda c: int(c["seqno"])))
        unique = str(row["sql"]).upper().startswith("CREATE UNIQUE")
        indexes[str(row["name"])] = Index(str(row["name"]), str(row["tbl_name"]), names_in, unique)
    return Schema(tables, indexes)

"""PostgreSQL's live schema, from information_schema and pg_indexes (the current schema only)."""

from __future__ import annotations

import re

from bot.store.executor import Executor
from bot.store.schema import Column, Index, Schema, Table, normal_default

_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON \S+ USING \w+ \(([^)]*)\)")


async def read_schema(ex: Executor) -> Schema:
    rows = await ex.many(
        "SELECT c.table_name AS t, c.column_name AS c, c.is_nullable AS n, c.column_default AS d"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_name = c.table_name AND t.table_schema = c.table_schema"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    keys = await ex.many(
        "SELECT tc.table_name AS t, k.column_name AS c FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage k"
        " ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema"
        " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()"
        " ORDER BY tc.table_name, k.ordinal_position"
    )
    refs = await ex.many(
        "SELECT DISTINCT tc.table_name AS t, u.table_name AS p FROM information_schema.table_constraints tc"
        " JOIN information_schema.constraint_column_usage u"
        " ON u.constraint_name = tc.constraint_name AND u.constraint_schema = tc.constraint_schema"
        " WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
    )
    key: dict[str, list[str]] = {}
    for r in keys:
        key.setdefault(str(r["t"]), []).append(str(r["c"]))
    columns: dict[str, list[Column]] = {}
    for r in rows:
        name = str(r["c"])
        default = None if str(r["d"] or "").startswith("nextval(") else normal_default(r["d"])
        columns.setdefault(str(r["t"]), []).append(Column(name, r["n"] == "NO", default))
    parents: dict[str, set[str]] = {}
    for r in refs:
        parents.setdefault(str(r["t"]), set()).add(str(r["p"]))
    tables = {
        t: Table(t, tuple(cols), tuple(key.get(t, ())), frozenset(parents.get(t, set()))) for t, cols in columns.items()
    }
    indexes: dict[str, Index] = {}
    for r in await ex.many("SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()"):
        name = str(r["indexname"])
        m = _INDEX.match(str(r["indexdef"]))
        if m is None or name.endswith(("_pkey", "_key")):  # a primary key's or a UNIQUE column's own index
            continue
        cols = tuple(c.strip().strip('"').split(" ")[0] for c in m.group(3).split(","))
        indexes[name] = Index(name, str(r["tablename"]), cols, bool(m.group(1)))
    return Schema(tables, indexes)

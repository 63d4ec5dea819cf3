"""The live schema of a database, as each backend describes it: tables with their columns (in
order, with nullability and defaults), primary keys, the tables each one references, and the
indexes. ``signoff db copy`` derives what to copy from it, and a store test holds the two backends'
schemas to being the same, column for column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Tables that are not data to copy: the migration record (PostgreSQL), the running replicas, and
# the reviewer load, which the target's triggers rebuild as the assignments arrive.
NOT_COPIED = frozenset({"schema_version", "replicas", "reviewer_stats", "reviewer_load"})
_CAST = re.compile(r"::[a-z ]+(\[\])?")


@dataclass(frozen=True)
class Column:
    name: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the primary key's columns, in order
    parents: frozenset[str] = frozenset()  # tables its foreign keys reference

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table]
    indexes: dict[str, Index] = field(default_factory=dict)

    def copy_order(self) -> list[Table]:
        """Every table with data to copy, each after the tables it references."""
        todo = {name: t for name, t in self.tables.items() if name not in NOT_COPIED}
        done: list[Table] = []
        while todo:
            ready = sorted(n for n, t in todo.items() if not (t.parents & todo.keys() - {n}))
            if not ready:
                raise ValueError(f"foreign keys form a cycle among {sorted(todo)}")
            for name in ready:
                done.append(todo.pop(name))
        return done


def normal_default(text: str | None) -> str | None:
    """A column default as both backends write it: PostgreSQL's casts and parentheses dropped."""
    if text is None:
        return None
    value = _CAST.sub("", text.strip())
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    return value

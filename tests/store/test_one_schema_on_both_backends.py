"""One truth for the schema: the live SQLite and PostgreSQL schemas are the same table for table,
column for column (order, nullability, defaults), with the same keys, references and indexes;
every schema change is a pair of migrations of one name; every INDEXED BY hint names an index
that exists; and the placeholder rewrite for PostgreSQL refuses SQL it would corrupt."""

from __future__ import annotations

import asyncio
import re
from importlib import resources
from pathlib import Path

import pytest

from bot.store.postgres.store import _sql as postgres_sql
from bot.store.schema import Schema
from tests.store.stores import stores

FIRST_PAIRED = 11  # PostgreSQL's 0001 holds what SQLite's 0001..0010 built


async def schema_of(url: str) -> Schema:
    async with stores(url) as (store,):
        return await store.schema()


async def test_both_backends_build_the_same_schema(tmp_path: Path, postgres_url: str) -> None:
    lite = await schema_of(f"sqlite:///{tmp_path / 'signoff.db'}")
    pg = await schema_of(postgres_url)
    assert sorted(lite.tables) == sorted(set(pg.tables) - {"schema_version"})
    for name, table in lite.tables.items():
        other = pg.tables[name]
        assert [(c.name, c.not_null, c.default) for c in table.columns] == [
            (c.name, c.not_null, c.default) for c in other.columns
        ], name
        assert (table.key, table.parents) == (other.key, other.parents), name
    assert lite.indexes == pg.indexes


def migration_names(backend: str) -> dict[int, str]:
    folder = resources.files(f"bot.store.{backend}").joinpath("migrations")
    found = {}
    for entry in folder.iterdir():
        m = re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", entry.name)
        if m:
            found[int(m.group(1))] = entry.name
    return found


def test_every_schema_change_is_one_migration_of_one_name_on_each_backend() -> None:
    lite, pg = migration_names("sqlite"), migration_names("postgres")
    assert [n for n in pg if n < FIRST_PAIRED] == [1]
    assert sorted(range(1, max(lite) + 1)) == sorted(lite)  # no gaps
    paired = {n: name for n, name in lite.items() if n >= FIRST_PAIRED}
    assert paired == {n: name for n, name in pg.items() if n >= FIRST_PAIRED}


async def test_every_indexed_by_hint_names_an_index_that_exists(tmp_path: Path) -> None:
    lite = await schema_of(f"sqlite:///{tmp_path / 'signoff.db'}")
    source = await asyncio.to_thread(lambda: "".join(p.read_text() for p in Path("bot/store").rglob("*.py")))
    hints = set(re.findall(r"INDEXED BY (\w+)", source))
    assert hints and hints <= set(lite.indexes), hints - set(lite.indexes)


@pytest.mark.parametrize("sql", ["SELECT * FROM t WHERE a LIKE 'x%' AND b = ?", "SELECT '?' AS q FROM t WHERE a = ?"])
def test_the_placeholder_rewrite_refuses_what_it_would_corrupt(sql: str) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        postgres_sql(sql)

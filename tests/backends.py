"""The databases tests run on: a SQLite file, and a fresh PostgreSQL database per test.

PostgreSQL is found at $SIGNOFF_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
Without it, PostgreSQL tests skip with one line saying what to install, unless
SIGNOFF_REQUIRE_POSTGRES=1 (as `.ci/run` sets): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ADMIN_URL = os.environ.get("SIGNOFF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
_reachable: bool | None = None


def _postgres_reachable() -> bool:
    global _reachable
    if _reachable is None:
        try:
            with psycopg.connect(ADMIN_URL, connect_timeout=3):
                _reachable = True
        except psycopg.Error:
            _reachable = False
    return _reachable


def require_postgres() -> None:
    if _postgres_reachable():
        return
    why = (
        f"PostgreSQL is not reachable at {ADMIN_URL}; install PostgreSQL 15 "
        "(apt install postgresql) or set SIGNOFF_TEST_POSTGRES"
    )
    if os.environ.get("SIGNOFF_REQUIRE_POSTGRES") == "1":
        pytest.fail(why)
    pytest.skip(why)


def _url_for(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def create_database() -> str:
    name = f"signoff_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _url_for(name)


def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(backend: str, tmp: Path) -> Iterator[str]:
    """A new, empty database of ``backend``; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'signoff.db'}"
        return
    require_postgres()
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)

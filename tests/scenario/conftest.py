"""Every scenario runs twice: on a SQLite file and on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import backends
from tests.harness import DATABASE


@pytest.fixture(autouse=True, params=backends.BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for url in backends.database_url(request.param, tmp_path):
        DATABASE["url"] = url
        try:
            yield request.param
        finally:
            DATABASE["url"] = None

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.sandbox.slack_standin import SlackStandIn
from tests import backends
from tests.harness import Harness, running, stand_in


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(tmp_path) as harness:
        yield harness


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    """A Slack stand-in on its own, for tests that run the bot as a separate process."""
    fake = stand_in()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(params=backends.BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each backend (the test runs once per backend)."""
    yield from backends.database_url(request.param, tmp_path)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A new, empty PostgreSQL database."""
    yield from backends.database_url("postgresql", tmp_path)

"""When the database cannot take the work in time (SQLite's write lock held by another process;
every pooled PostgreSQL connection taken), every way in answers busy, never with a 500 or
silence: a slash command gets the busy text, a form keeps its fields with the busy text under
the first, a click is acknowledged (and the person told), and the API answers 503 with
Retry-After. Nothing is stored. Busy raised anywhere counts, the middleware that recognises
repeated deliveries included."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from bot.domain.errors import Busy
from bot.slack import ids
from tests.fakes.driver import form_values
from tests.harness import Harness

BUSY = Busy().message


@asynccontextmanager
async def database_held(h: Harness) -> AsyncIterator[None]:
    url = h.bot.settings.database
    if url.startswith("sqlite:///"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    async with AsyncExitStack() as stack:
        from bot.store.postgres.store import POOL_MAX

        for _ in range(POOL_MAX):
            await stack.enter_async_context(h.bot.store.read())
        yield


async def test_every_way_in_answers_busy_not_500(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    ref = await h.ask()  # a request to click on, made before the database is held
    before = int((await h.fetchone("SELECT COUNT(*) FROM requests"))[0])
    caplog.set_level(logging.INFO)
    async with database_held(h):
        form = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values(title="Held up"))
        click = await h.driver.click("U0SENIOR1", ids.APPROVE, ref.removeprefix("CR-"))
        command = await h.driver.command("U0JUNIOR1", "status")
        status, body = await h.api(
            "POST", "/api/v1/requests",
            {"requester": "U0JUNIOR1", "title": "t", "url": "https://x.example/1", "ai_assisted": True},
        )  # fmt: skip
    assert form.status == 200 and BUSY in str(form.json()["errors"]), form.text
    assert click.status == 200
    assert command.status == 200
    assert (status, body["error"]) == (503, "Busy")
    assert "Traceback" not in caplog.text and "Unhandled" not in caplog.text
    await h.settle()
    assert int((await h.fetchone("SELECT COUNT(*) FROM requests"))[0]) == before
    assert (await h.get(ref)).status.value == "pending"  # the click did nothing; it can be made again
    again = await h.driver.click("U0SENIOR1", ids.APPROVE, ref.removeprefix("CR-"))
    assert again.status == 200
    await h.settle()
    assert (await h.get(ref)).status.value == "approved"

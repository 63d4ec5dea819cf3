"""When the database cannot take the work in time (SQLite's write lock held by another process;
every pooled PostgreSQL connection taken), every way in answers busy, never with a 500 or
silence: a slash command gets the busy text, a form keeps its fields with the busy text under
the first, a click is acknowledged (and the person told), and the API answers 503 with
Retry-After. Nothing is stored. Busy raised anywhere counts, the middleware that recognises
repeated deliveries included."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from bot.domain.errors import Busy
from bot.sandbox.driver import Reply
from bot.slack import ids
from tests.fakes.driver import form_values, reason_values
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


COMMANDS = ["status CR-1", "pending", "cancel CR-1", "away", "back", "policy", "policy extend 30",
            "policy end", "summary", "report", "roster", ""]  # fmt: skip
READS = {"status CR-1", "pending", "policy", "roster"}
CLICKS = [ids.APPROVE, ids.DENY, ids.CLAIM, ids.JUSTIFIED, ids.NOT_JUSTIFIED]
FORMS = [
    (ids.REQUEST_FORM, form_values(title="Held"), {}),
    (ids.BREAK_GLASS_FORM, form_values(title="Held", break_glass="on fire"), {}),
    (ids.DENY_FORM, reason_values("No"), {"private_metadata": "1"}),
    (ids.AFTER_THE_FACT_FORM, {"note": {"value": {"type": "plain_text_input", "value": "ok"}}},
     {"private_metadata": "1:justified"}),
]  # fmt: skip


async def test_every_listener_answers_busy_or_its_own_answer_never_a_500(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The class, not one path: every command, every button, every form, the Workflow Builder
    step and App Home, while the database cannot take work. Each gets its answer in time: the
    busy text where the person looks (or, for what needs no storage, its usual answer), never a
    500, never a traceback; an event Slack will send again gets 503."""
    await h.ask()
    before = int((await h.fetchone("SELECT COUNT(*) FROM requests"))[0])
    caplog.set_level(logging.INFO)
    async with database_held(h):  # all at once: each waits out its own deadline
        asks: dict[str, Awaitable[Reply]] = {}
        for text in COMMANDS:
            asks[f"/signoff {text}"] = h.driver.command("U0ADMIN1", text)
        for action in CLICKS:
            asks[action] = h.driver.click("U0SENIOR1", action, "1")
        for callback, values, extra in FORMS:
            asks[callback] = h.driver.submit("U0SENIOR1", callback, values, **extra)
        asks["workflow step"] = _step(h)
        asks["app_home_opened"] = h.driver.event({"type": "app_home_opened", "user": "U0SENIOR1", "tab": "home"})
        replies = dict(zip(asks, await asyncio.gather(*asks.values()), strict=True))
    on_sqlite = h.bot.store.kind == "sqlite"  # its readers never wait for the writer: reads still answer
    for text in COMMANDS:
        body = replies[f"/signoff {text}"].json() if replies[f"/signoff {text}"].text else {}
        if on_sqlite and text in READS:
            assert body.get("text") not in (None, BUSY) and "did not work" not in body["text"], (text, body)
        elif on_sqlite and text == "":
            assert body == {}, body  # the form opened (views.open), nothing stored
        else:
            assert body.get("text") == BUSY, (text, body)
    for action in CLICKS:
        assert replies[action].status == 200 and replies[action].text == "", action
    for callback, _, _ in FORMS:
        body = replies[callback].json()
        assert body["response_action"] == "errors" and BUSY in str(body["errors"]), (callback, body)
    # Events are answered 503: Slack sends them again later (a workflow's step is not failed).
    assert (replies["workflow step"].status, replies["app_home_opened"].status) == (503, 503)
    await h.settle()  # the tells go after the answers
    assert h.slack.calls_to("functions.completeError") == []
    told = [e.text for e in h.slack.ephemerals if e.text == BUSY]
    assert len(told) >= 2  # Approve and Claim at least: acknowledged, and the person told where they clicked
    assert "Traceback" not in caplog.text and "Unhandled" not in caplog.text
    assert " 500 " not in caplog.text
    assert int((await h.fetchone("SELECT COUNT(*) FROM requests"))[0]) == before
    assert (await h.get("CR-1")).status.value == "pending"


async def _step(h: Harness) -> Reply:
    inputs = {"title": "t", "link": "https://x.example/1", "requester": "U0JUNIOR1", "ai_assisted": True}
    return (await h.driver.run_step(inputs))[1]

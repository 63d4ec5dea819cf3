"""The sandbox page's API: what Slack would refuse is shown, not hidden; odd input to the page's
endpoints gets a 400 with a message; the time control runs the timed sweeps."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.sandbox.demo import Person
from bot.sandbox.slack_standin import Failure
from bot.sandbox.web import Sandbox, sandbox_errors
from tests.harness import SUMMARY, USERS, Harness
from tests.process import free_port


@pytest.fixture
async def page(h: Harness) -> AsyncIterator[str]:
    sandbox = Sandbox(h.slack, h.driver, tuple(Person(u, u, "demo") for u in USERS), SUMMARY, "cmd", h.bot, h.clock)  # type: ignore[arg-type]
    app = web.Application(middlewares=[sandbox_errors])
    sandbox.register(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_what_slack_refuses_is_shown(h: Harness, page: str) -> None:
    await h.settle()  # the channel's welcome is out
    h.slack.fail("chat.postMessage", Failure(error="invalid_blocks"))
    await h.ask("U0JUNIOR1")
    await h.settle()
    refused = []
    for user in USERS:
        async with h.session.get(f"{page}/sandbox/state", params={"user": user}) as resp:
            state = await resp.json()
        refused += [
            (user, place, i["text"])
            for place, items in state["conversations"].items()
            for i in items
            if i["kind"] == "refused"
        ]
    [(user, place, text)] = refused  # once, in the DM it was meant for, to that person only
    assert place == "dm" and text == "Slack refused chat.postMessage: invalid_blocks"
    assert user == (await h.get("CR-1")).reviewer  # the review DM Slack refused


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sandbox/command", {"user": "U0GHOST", "text": "/signoff help"}),
        ("/sandbox/command", ["not", "an", "object"]),
        ("/sandbox/submit", {"user": "U0JUNIOR1", "view_id": "V0NOPE", "values": {}}),
        ("/sandbox/time", {"advance": "soon"}),
    ],
)
async def test_odd_input_to_the_page_is_a_400(h: Harness, page: str, path: str, body: object) -> None:
    async with h.session.post(page + path, json=body) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"]


async def test_the_time_control_runs_the_sweeps(h: Harness, page: str) -> None:
    ref = await h.ask("U0JUNIOR1")
    async with h.session.post(f"{page}/sandbox/time", json={"advance": "1d"}) as resp:
        assert resp.status == 200
    assert (await h.get(ref)).reviewer != "U0SENIOR1"  # escalated after a day
    async with h.session.post(f"{page}/sandbox/time", json={"advance": "end"}) as resp:
        assert resp.status == 200
    assert (await h.get(ref)).status.value == "expired"

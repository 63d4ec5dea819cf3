"""The sandbox page's view of the Slack stand-in: every emoji shortcode the bot sends has a
character, and what Slack refused shows where it happened, to the person concerned, until
dismissed, while a lookup that finds nobody is not shown as a refusal."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox.emoji_table import emoji_table
from bot.sandbox.page_state import CHANNEL, DM, PageBook
from bot.sandbox.slack_standin import BOT_TOKEN, SlackStandIn

BOT = Path(__file__).parents[2] / "bot"
SHORTCODE = re.compile(r":([a-z0-9_+-]*[a-z][a-z0-9_+-]*):")


def _texts(tree: ast.AST) -> list[str]:
    """String constants that are not docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_every_shortcode_the_bot_sends_has_an_emoji() -> None:
    found: dict[str, str] = {}
    # The packages whose strings become Slack text (the rest holds regexes such as ``(?:ssh:``).
    for path in [p for part in ("slack", "domain", "services") for p in (BOT / part).rglob("*.py")]:
        for text in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            for code in SHORTCODE.findall(text):
                found.setdefault(code, str(path.relative_to(BOT)))
    assert {"boom", "rotating_light", "white_check_mark", "grey_question"} <= found.keys()  # the grep works
    table = emoji_table()
    assert {code: where for code, where in found.items() if code not in table} == {}


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn(users=["U0JUNE", "U0SARA"], channels=["C0SIGNOFF"])
    await stand_in.start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


async def _call(slack: SlackStandIn, method: str, body: dict[str, object]) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(slack.api_url + method, json=body, headers=headers) as r,
    ):
        answer: dict[str, object] = await r.json()
        return answer


async def test_a_refusal_shows_where_it_happened_to_whom_it_concerns(slack: SlackStandIn) -> None:
    book = PageBook(slack, "C0SIGNOFF")
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert (await _call(slack, "chat.postMessage", {"channel": "U0JUNE", "text": "t", "blocks": too_long}))[
        "ok"
    ] is False
    assert (await _call(slack, "users.lookupByEmail", {"email": "ghost@example.com"}))["ok"] is False

    [refused] = book.conversation("U0JUNE", DM)
    assert refused["kind"] == "refused" and refused["text"].startswith("Slack refused chat.postMessage: invalid_blocks")
    assert book.conversation("U0JUNE", CHANNEL) == []  # not where it did not happen
    assert book.conversation("U0SARA", DM) == []  # not to someone else
    book.dismiss("U0JUNE", refused["key"])
    assert book.conversation("U0JUNE", DM) == []


async def test_a_private_answer_stays_in_its_conversation(slack: SlackStandIn) -> None:
    book = PageBook(slack, "C0SIGNOFF")
    url = book.response_url("U0JUNE", CHANNEL)
    answer = {"text": "CR-1 is pending", "response_type": "ephemeral"}
    async with aiohttp.ClientSession() as session, session.post(url, json=answer) as resp:
        assert resp.status == 200
    book.note("U0JUNE", DM, {"text": "Unknown command"})
    assert [i["text"] for i in book.conversation("U0JUNE", CHANNEL)] == ["CR-1 is pending"]
    assert [i["text"] for i in book.conversation("U0JUNE", DM)] == ["Unknown command"]
    assert book.conversation("U0SARA", CHANNEL) == []

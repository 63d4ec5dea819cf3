"""The reviewer's card says where a request came from and who said whether it destroys: a
pipeline's request says it came from a pipeline, a command the agent hook's patterns file marked
does not claim the requester said so, and an empty field reads the same everywhere."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.models import Draft
from bot.domain.request_fields import BY_COMMAND, BY_HOOK_PATTERN, BY_REQUESTER
from bot.slack.blocks import blast_radius, facts
from tests.unit.test_blocks_fit_slack_limits import request


def card(destructive: bool | None, by: str = "", command: str = "", **kw: object) -> str:
    draft = Draft(
        title="Run it", url="https://example.com/pr/1", ai_assisted=True, destructive=destructive,
        destructive_by=by, command=command,
    )  # fmt: skip
    req = request(plan=None, **kw)
    req = replace(req, draft=draft)
    return blast_radius(req)["text"]["text"] + "\n" + "\n".join(f["text"] for f in facts(req)["fields"])


@pytest.mark.parametrize("by", ["", BY_REQUESTER])
def test_what_the_requester_said_is_theirs(by: str) -> None:
    assert "(the requester says so; no plan attached)" in card(True, by)
    assert "(the requester says so; no plan attached)" in card(False, by)


def test_a_hook_pattern_is_named_as_the_one_who_said_so() -> None:
    for destructive in (True, False):
        text = card(destructive, BY_HOOK_PATTERN, command="./deploy.sh prod")
        assert "requester says so" not in text
        assert "the agent hook's patterns file" in text


def test_signoff_reading_the_command_is_named() -> None:
    text = card(False, BY_COMMAND, command="kubectl get pods")
    assert "requester says so" not in text and "signoff read the command" in text


def test_a_command_nobody_could_judge_says_so() -> None:
    text = card(None, "", command="./deploy.sh prod", approvals_needed=2)
    assert "cannot tell from the command" in text and "needs 2 seniors" in text


@pytest.mark.parametrize(
    ("source", "pipeline", "said"),
    [
        ("api", "deploys", "A pipeline (deploys)"),
        ("slack", None, "The /signoff form"),
        ("workflow", None, "A Slack workflow"),
        ("github", None, "A GitHub deployment"),
    ],
)
def test_the_card_says_where_the_request_came_from(source: str, pipeline: str | None, said: str) -> None:
    assert f"*Asked from*\n{said}" in card(False, source=source, pipeline=pipeline)


def test_empty_fields_read_the_same() -> None:
    text = card(False)
    assert "*Service*\nnot given" in text and "*AI tool*\nnot given" in text

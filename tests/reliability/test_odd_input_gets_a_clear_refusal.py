"""Odd input gets a clear refusal, never a 500: Unicode digits that ``str.isdigit()`` accepts and
``int()`` refuses, absurdly long numbers, and JSON nested deeper than any parser should follow."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness

ODD_NUMBERS = ["²", "³", "①", "١٢", "9" * 5000, "-3", "1e3", " "]


@pytest.mark.parametrize("days", ODD_NUMBERS)
@pytest.mark.parametrize("user", ["U0ADMIN1", "U0JUNIOR1"])
async def test_policy_extend_with_odd_days(h: Harness, days: str, user: str) -> None:
    reply = await h.driver.command(user, f"policy extend {days}")
    assert reply.status == 200, reply.text
    text = reply.json()["text"]
    if user == "U0ADMIN1":
        assert "whole number" in text
    else:
        assert "Only signoff admins" in text  # the admin check comes first, whatever the number
    assert await h.audit_actions("policy_extended") == 0


@pytest.mark.parametrize("value", ["²", "①", "9" * 40, ""])
async def test_a_button_with_an_odd_request_id(h: Harness, value: str) -> None:
    await h.ask()
    reply = await h.driver.click("U0SENIOR1", ids.APPROVE, value)
    assert reply.status == 200
    await h.settle()
    assert any("does not name a request" in t for t in h.slack.ephemeral_texts())
    assert (await h.get("CR-1")).status.value == "pending"


@pytest.mark.parametrize("metadata", ["①", "²", "9" * 40])
async def test_a_deny_form_with_odd_metadata(h: Harness, metadata: str) -> None:
    await h.ask()
    reply = await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("no"), private_metadata=metadata)
    assert reply.status == 200
    assert reply.json()["response_action"] == "errors"
    assert (await h.get("CR-1")).status.value == "pending"


@pytest.mark.parametrize("ref", ["²", "CR-①", "9" * 5000])
async def test_status_and_the_api_with_odd_ids(h: Harness, ref: str) -> None:
    reply = await h.driver.command("U0JUNIOR1", f"status {ref}")
    assert reply.status == 200 and "request id" in reply.json()["text"]
    status, body = await h.api("GET", f"/api/v1/requests/{ref[:200]}")
    assert status in (404, 422) and body["message"]


@pytest.mark.parametrize("wait", ["²", "nan", "inf", "1e9", "-1", "٣"])
async def test_an_odd_wait_is_refused(h: Harness, wait: str) -> None:
    status, body = await h.api(
        "POST",
        "/api/v1/requests",
        {"requester": "U0SENIOR1", "title": "t", "url": "https://x.example/1", "ai_assisted": False},
    )
    assert status == 201
    status, body = await h.api("GET", f"/api/v1/requests/{body['id']}?wait={wait}")
    assert status == 422 and "wait" in body["fields"]


async def test_deeply_nested_json_to_slack_events_is_a_400(h: Harness) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    reply = await h.driver.post_signed(urlencode({"payload": deep}), "application/x-www-form-urlencoded")
    assert reply.status == 400 and json.loads(reply.text)["error"] == "malformed_payload"
    reply = await h.driver.post_signed('{"a":' * 100_000 + "1" + "}" * 100_000, "application/json")
    assert reply.status in (400, 413) and json.loads(reply.text)["message"]


async def test_deeply_nested_json_to_the_api_is_a_400(h: Harness) -> None:
    deep = '{"title":' + "[" * 30_000 + "]" * 30_000 + "}"
    status, body = await h.api("POST", "/api/v1/requests", raw=deep.encode())
    assert status == 400 and body["error"] == "MalformedPayload"


ODD_ARGS = [
    "", "0d", "-1d", "0", "99999999999d", "9" * 500, "①", "²d", "3x", "until 2026-02-30", "until yesterday",
    "until", "delegate", "delegate @", "delegate <@U0NOBODY|gus>", "3d delegate <@U0JUNIOR1|june>",
    "\u202egnp.exe", "a\x00b", "CR-", "CR-0", "cr-1", "CR-1 CR-2", "😀" * 100, "extend", "extend 0",
    "extend -5", "extend 100000", "extend ①", "x" * 3000,
]  # fmt: skip


@pytest.mark.parametrize("user", ["U0JUNIOR1", "U0SENIOR1", "U0ADMIN1"])
async def test_every_command_answers_odd_arguments_in_words(h: Harness, user: str) -> None:
    """Whatever follows a subcommand, the answer is an ephemeral sentence: never an error page."""
    from bot.slack.listeners.commands import SUBCOMMANDS

    await h.ask()
    for verb in [v for v in SUBCOMMANDS if v != "report"]:
        for arg in ODD_ARGS:
            reply = await h.driver.command(user, f"{verb} {arg}")
            assert reply.status == 200, (verb, arg, reply.text)
            body = reply.json()
            assert body["response_type"] == "ephemeral" and body["text"].strip(), (verb, arg, body)
            assert "Traceback" not in body["text"] and "Error:" not in body["text"]

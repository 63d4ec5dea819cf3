"""The signed-request driver with the tests' secret, and form values as Slack sends them."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.sandbox.driver import Reply
from bot.sandbox.driver import SlackDriver as _SlackDriver
from bot.sandbox.slack_standin import SlackStandIn
from tests.fakes.signing import SIGNING_SECRET

__all__ = ["Reply", "SlackDriver", "form_values", "reason_values"]


class SlackDriver(_SlackDriver):
    def __init__(
        self, bot_url: str, slack: SlackStandIn, session: aiohttp.ClientSession, secret: str = SIGNING_SECRET
    ) -> None:
        super().__init__(bot_url, slack, session, secret)


def form_values(
    title: str = "Bump payments timeout",
    url: str = "https://github.com/acme/payments/pull/42",
    description: str = "Raise the upstream timeout from 2s to 5s.",
    service: str = "payments",
    environment: str = "production",
    ai_assisted: bool | None = True,
    ai_tool: str = "Copilot",
    destructive: bool | None = False,
    break_glass: str | None = None,
) -> dict[str, Any]:
    """view.state.values for the request form (or, with ``break_glass``, the break-glass form),
    as Slack sends them. ``None`` for a question: not answered."""

    def text(v: str) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": v or None}}

    def radio(answer: bool | None) -> dict[str, Any]:
        chosen: dict[str, Any] = {"type": "radio_buttons", "selected_option": None}
        if answer is not None:
            choice = "yes" if answer else "no"
            chosen["selected_option"] = {"value": choice, "text": {"type": "plain_text", "text": choice}}
        return {"value": chosen}

    glass = {"break_glass": text(break_glass)} if break_glass is not None else {}
    return {
        **glass,
        "title": text(title),
        "url": text(url),
        "description": text(description),
        "service": text(service),
        "environment": text(environment),
        "ai_assisted": radio(ai_assisted),
        "ai_tool": text(ai_tool),
        "destructive": radio(destructive),
    }


def reason_values(reason: str) -> dict[str, Any]:
    return {"reason": {"value": {"type": "plain_text_input", "value": reason or None}}}

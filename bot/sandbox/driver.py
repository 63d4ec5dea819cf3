"""Drives the bot the way Slack does: signed slash commands, clicks and modal submissions."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.sandbox.signing import sign
from bot.sandbox.slack_standin import TEAM_ID, SlackStandIn


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class SlackDriver:
    def __init__(self, bot_url: str, slack: SlackStandIn, session: aiohttp.ClientSession, secret: str) -> None:
        self.bot_url = bot_url.rstrip("/")
        self.url = self.bot_url + "/slack/events"
        self.slack = slack
        self.session = session
        self._secret = secret
        self.last_raw: tuple[str, str] | None = None  # (body, content type) of the last request

    async def post_raw(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Reply:
        self.last_raw = (body, content_type)
        async with self.session.post(
            self.url, data=body.encode(), headers={"Content-Type": content_type, **(headers or {})}
        ) as resp:
            return Reply(resp.status, await resp.text())

    async def post_signed(self, body: str, content_type: str, timestamp: int | None = None) -> Reply:
        return await self.post_raw(body, content_type, sign(body, self._secret, timestamp))

    async def replay(self) -> Reply:
        """Send the last request again, byte for byte, freshly signed with the same timestamp window."""
        assert self.last_raw is not None
        body, content_type = self.last_raw
        return await self.post_signed(body, content_type)

    # --- what Slack sends ----------------------------------------------
    def command_body(
        self, user: str, text: str = "", trigger_id: str | None = None, response_url: str | None = None
    ) -> str:
        response_url = response_url or self.slack.response_url(user)[1]
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "channel_id": "C0GENERAL",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/signoff",
                "text": text,
                "response_url": response_url,
                "trigger_id": trigger_id or self.slack.issue_trigger(owner=user),
                "api_app_id": "A0SIGNOFF",
            }
        )

    async def command(
        self, user: str, text: str = "", trigger_id: str | None = None, response_url: str | None = None
    ) -> Reply:
        body = self.command_body(user, text, trigger_id, response_url)
        return await self.post_signed(body, "application/x-www-form-urlencoded")

    def action_payload(
        self, user: str, action_id: str, value: str, trigger_id: str | None = None, response_url: str | None = None
    ) -> dict[str, Any]:
        response_url = response_url or self.slack.response_url(user)[1]
        return {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "A0SIGNOFF",
            "trigger_id": trigger_id or self.slack.issue_trigger(owner=user),
            "response_url": response_url,
            "container": {"type": "message", "channel_id": f"D{user}", "message_ts": "1.000001"},
            "channel": {"id": f"D{user}"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "decide",
                    "value": value,
                    "action_ts": f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}",
                }
            ],
        }

    async def payload(self, payload: dict[str, Any]) -> Reply:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post_signed(body, "application/x-www-form-urlencoded")

    async def click(self, user: str, action_id: str, value: str) -> Reply:
        return await self.payload(self.action_payload(user, action_id, value))

    def view_payload(
        self,
        user: str,
        callback_id: str,
        values: dict[str, Any],
        view_id: str | None = None,
        private_metadata: str = "",
    ) -> dict[str, Any]:
        return {
            "type": "view_submission",
            "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "A0SIGNOFF",
            "trigger_id": self.slack.issue_trigger(),
            "view": {
                "id": view_id or f"V{uuid.uuid4().hex[:10].upper()}",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "hash": "1.abc",
                "state": {"values": values},
            },
        }

    async def submit(self, user: str, callback_id: str, values: dict[str, Any], **kw: Any) -> Reply:
        return await self.payload(self.view_payload(user, callback_id, values, **kw))

    async def run_step(self, inputs: dict[str, Any], callback_id: str = "request_signoff") -> tuple[str, Reply]:
        """A workflow runs our step: returns the execution id and the bot's answer."""
        event = self.slack.start_execution(callback_id, inputs)
        return str(event["function_execution_id"]), await self.event(event)

    async def event(self, event: dict[str, Any]) -> Reply:
        """An Events API delivery (event_callback), as JSON."""
        body = {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A0SIGNOFF",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post_signed(json.dumps(body), "application/json")

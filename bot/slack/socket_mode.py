"""Socket Mode: the same Bolt app, fed over Slack's WebSocket instead of HTTP."""

from __future__ import annotations

import logging
from time import perf_counter, time
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.domain.errors import MalformedPayload
from bot.metrics import Metrics
from bot.slack.acks_first import AckPriority
from bot.slack.bolt_app import interaction_kind
from bot.slack.listeners.payloads import check_shape

log = logging.getLogger(__name__)
_KINDS = {"slash_commands": "command", "events_api": "event", "interactive": "interactive"}


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Checks each envelope's shape before Bolt touches it; a malformed one is acked and dropped."""

    def __init__(self, app: Any, app_token: str, priority: AckPriority, metrics: Metrics) -> None:
        super().__init__(app, app_token)
        self.priority = priority
        self.metrics = metrics

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        started = perf_counter()
        with self.priority.answering():
            await self._handle(client, req)
        kind = _KINDS.get(req.type, "other")
        if kind == "interactive" and isinstance(req.payload, dict):
            kind = interaction_kind(req.payload)
        self.metrics.ack.labels(kind=kind).observe(perf_counter() - started)

    async def _handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time()
        try:
            if isinstance(req.payload, dict):
                check_shape(req.payload)
        except MalformedPayload as err:
            log.warning("dropped a malformed Socket Mode envelope: %s", err.message)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        bolt_resp = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_resp, start)

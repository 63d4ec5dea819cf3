"""Socket Mode: the same Bolt app, fed over Slack's WebSocket instead of HTTP."""

from __future__ import annotations

import logging
from time import time

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.domain.errors import MalformedPayload
from bot.slack.listeners.payloads import check_shape
from bot.slack.priority import AckPriority

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Checks each envelope's shape before Bolt touches it; a malformed one is acked and dropped."""

    priority: AckPriority | None = None

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        if self.priority is None:
            await self._handle(client, req)
            return
        with self.priority.answering():
            await self._handle(client, req)

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

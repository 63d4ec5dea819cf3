"""Socket Mode: the same Bolt app, fed over Slack's WebSocket instead of HTTP."""

from __future__ import annotations

import json
import logging
from time import perf_counter, time
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot import deadlines
from bot.admission import BUDGET, Admission
from bot.domain.errors import MalformedPayload
from bot.metrics import Metrics
from bot.slack import busy
from bot.slack.acks_first import AckPriority
from bot.slack.bolt_app import UNSHED, interaction_kind
from bot.slack.busy import Responder
from bot.slack.listeners.payloads import check_shape

log = logging.getLogger(__name__)
_KINDS = {"slash_commands": "command", "events_api": "event", "interactive": "interactive"}


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Checks each envelope's shape before Bolt touches it; a malformed one is acked and dropped."""

    def __init__(self, app: Any, app_token: str, priority: AckPriority, metrics: Metrics, admission: Admission) -> None:
        super().__init__(app, app_token)
        self.priority = priority
        self.metrics = metrics
        self.admission = admission
        self.responder: Responder | None = None

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
        kind = _KINDS.get(req.type, "other")
        if kind == "interactive" and isinstance(req.payload, dict):
            kind = interaction_kind(req.payload)
        if kind not in UNSHED and self.admission.busy() and isinstance(req.payload, dict):
            self.admission.refuse(kind)
            await self._busy(client, req, kind)
            return
        with deadlines.within(BUDGET - (time() - start)):
            bolt_resp = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_resp, start)

    async def _busy(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest, kind: str) -> None:
        """The busy answer over the WebSocket; an event is not acknowledged, so Slack sends it again."""
        if kind == "event":
            return
        response, response_url = busy.answer(kind, req.payload)
        payload = json.loads(response.text) if response.text else None
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=payload))
        if response_url is not None and self.responder is not None:
            self.responder.tell_busy(response_url)

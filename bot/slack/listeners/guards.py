"""Global middleware: reject malformed payloads, drop repeated deliveries."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.domain.errors import MalformedPayload
from bot.slack.listeners.context import ListenerContext
from bot.slack.listeners.payloads import check_shape, delivery_key
from bot.store import deliveries

log = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: ListenerContext) -> None:
    @app.middleware
    async def reject_malformed(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        try:
            check_shape(body)
        except MalformedPayload as err:
            log.warning("rejected Slack payload: %s", err.message)
            return BoltResponse(
                status=400,
                body=json.dumps({"error": "malformed_payload", "message": err.message}),
                headers={"content-type": "application/json"},
            )
        await next()
        return None

    @app.middleware
    async def drop_repeats(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not await deliveries.first_time(ctx.deps.db, key, ctx.deps.clock.now()):
            log.info("dropped a repeated Slack delivery (%s)", key.split(":", 1)[0])
            return BoltResponse(status=200, body="")
        await next()
        return None

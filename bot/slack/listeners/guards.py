"""Global middleware: drop repeated deliveries (Slack retries, replayed signed requests).

Malformed payloads never get here: the HTTP bridge and the Socket Mode handler check
the shape first, because Bolt itself indexes into the payload before any middleware.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.slack.listeners.context import ListenerContext
from bot.slack.listeners.payloads import delivery_key
from bot.store import deliveries

log = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: ListenerContext) -> None:
    @app.middleware
    async def drop_repeats(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not await deliveries.first_time(ctx.deps.db, key, ctx.deps.clock.now()):
            log.info("dropped a repeated Slack delivery (%s)", key.split(":", 1)[0])
            return BoltResponse(status=200, body="")
        await next()
        return None

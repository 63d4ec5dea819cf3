"""Global middleware: recognise Slack deliveries whose work is already stored.

The key of each delivery (its receipt) is handed to the listener as ``context["receipt"]``; the service
remembers it in the same transaction as its work. So a retry after a failure does the work,
and only a retry of work that was stored is acknowledged here without doing anything.

Malformed payloads never get here: the HTTP bridge and the Socket Mode handler check
the shape first, because Bolt itself indexes into the payload before any middleware.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot import log_context
from bot.slack.listeners.parts import ListenerParts
from bot.slack.listeners.payloads import receipt_key

log = logging.getLogger(__name__)


def receipt_of(context: AsyncBoltContext) -> str | None:
    """The delivery key the middleware found for this request, if any."""
    key = context.get("receipt")
    return key if isinstance(key, str) else None


def register(app: AsyncApp, parts: ListenerParts) -> None:
    @app.middleware
    async def drop_repeats(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = receipt_key(body)
        log_context.receipt_id.set(key)
        if key is not None:
            if await parts.deps.store.seen(key):
                log.info("dropped a repeated Slack delivery (%s)", key.split(":", 1)[0])
                return BoltResponse(status=200, body="")
            context["receipt"] = key
        await next()
        return None

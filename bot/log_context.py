"""What each log line is about: the request and the Slack delivery being handled, if any.

Set by the HTTP API and the Slack middleware; ``LOG_FORMAT=json`` writes them as fields.
Context variables follow each asyncio task, so concurrent work never mixes them up.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
receipt_id: ContextVar[str | None] = ContextVar("receipt_id", default=None)

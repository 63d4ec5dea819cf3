"""Requests asked for by a Workflow Builder step: the step completes when the request is final.

Every transaction that makes a request final (approved, denied, cancelled, expired, or not
required at once) queues the completion with its other messages, so it goes out exactly once.
"""

from __future__ import annotations

from bot.services import notices
from bot.store import workflow
from bot.store.db import Conn
from bot.store.outbox import Notice


async def completion(conn: Conn, request_id: int) -> list[Notice]:
    """The step completion to queue when ``request_id`` becomes final (none if no step asked)."""
    return [notices.workflow_complete(request_id)] if await workflow.execution_of(conn, request_id) else []

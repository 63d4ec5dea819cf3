"""Requests asked for by a Workflow Builder step: the step completes when the request is final.

Every transaction that makes a request final (approved, denied, cancelled, expired, or not
required at once) queues the completion with its other messages, so it goes out exactly once.
"""

from __future__ import annotations

from bot.domain.outbox import Notice
from bot.services import notices
from bot.store.unit_of_work import Repos


async def completion(tx: Repos, request_id: int) -> list[Notice]:
    """The step completion to queue when ``request_id`` becomes final (none if no step asked)."""
    return [notices.workflow_complete(request_id)] if await tx.workflow.execution_of(request_id) else []

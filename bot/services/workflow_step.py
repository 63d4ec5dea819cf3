"""Requests asked for by a Workflow Builder step: the step completes when the request is final.

Every transaction that makes a request final (approved, denied, cancelled, expired, or not
required at once) queues the completion with its other messages, so it goes out exactly once.
"""

from __future__ import annotations

from bot.domain.models import ChangeRequest
from bot.domain.outbox import Notice
from bot.services import notices
from bot.store.unit_of_work import Repos

WORKFLOW_SOURCE = "workflow"  # only a request a step asked for has a step to complete


async def completion(tx: Repos, req: ChangeRequest) -> list[Notice]:
    """The step completion to queue when ``req`` becomes final (none if no step asked: then
    nothing is read, a round trip saved on every decision)."""
    if req.source != WORKFLOW_SOURCE:
        return []
    return [notices.workflow_complete(req.id)] if await tx.workflow.execution_of(req.id) else []

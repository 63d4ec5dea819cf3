"""The requester withdraws a pending request."""

from __future__ import annotations

from bot.domain.errors import NotRequester, SignoffError
from bot.domain.models import ChangeRequest, Status
from bot.services import guard, notices
from bot.services.deps import Deps
from bot.services.workflow_step import completion
from bot.store import audit, outbox
from bot.store import requests as store
from bot.store.audit import AuditEntry


async def cancel_request(deps: Deps, request_id: int, actor: str, delivery: str | None = None) -> ChangeRequest:
    now = deps.clock.now()
    refusal: SignoffError | None = None
    async with deps.db.transaction(delivery) as conn:
        req = await guard.load(conn, request_id)
        if actor != req.requester:
            refusal = NotRequester(f"Only <@{req.requester}>, who asked for {req.ref}, can cancel it.")
        else:
            refusal = guard.not_pending(req)
        if refusal is not None:
            await guard.record_refusal(conn, now, actor, request_id, "cancel", refusal)
        else:
            reviewers = await store.active_reviewers(conn, request_id)  # before the outcome closes them
            await store.set_outcome(conn, request_id, status=Status.CANCELLED, now=now, decided_by=actor)
            await audit.append(conn, now, AuditEntry(actor, "cancelled", request_id))
            await outbox.enqueue_many(
                conn, now, [notices.review_refresh(request_id), *await completion(conn, request_id)]
            )
            if req.reviewer is None:
                await outbox.enqueue(conn, now, notices.claim_refresh(request_id))
            for user in {req.requester, *reviewers}:
                await outbox.enqueue(conn, now, notices.home_refresh(user))
            req = await guard.load(conn, request_id)
    if refusal is not None:
        raise refusal
    deps.committed(request_id)
    return req

"""The requester withdraws a pending request."""

from __future__ import annotations

from bot.domain.audit import AuditEntry
from bot.domain.errors import NotRequester
from bot.domain.models import ChangeRequest, FinalReason, Status
from bot.domain.outbox import Event
from bot.services import notices, who_may_decide
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.services.workflow_step import completion
from bot.store.unit_of_work import Tx


async def cancel_request(deps: Deps, request_id: int, actor: str, receipt: str | None = None) -> ChangeRequest:
    now = deps.clock.now()

    async def cancel(tx: Tx) -> ChangeRequest:
        req = await who_may_decide.load(tx, request_id)
        refusal = (
            NotRequester(f"Only <@{req.requester}>, who asked for {req.ref}, can cancel it.")
            if actor != req.requester
            else who_may_decide.not_pending(req)
        )
        if refusal is not None:
            await tx.refuse(refusal, actor, request_id, "cancel", now)
        reviewers = await tx.assignments.active(request_id)  # before the outcome closes them
        await tx.requests.set_outcome(
            request_id,
            status=Status.CANCELLED,
            now=now,
            requested_at=req.created_at,
            final=FinalReason.CANCELLED,
            decided_by=actor,
        )
        await tx.audit.append(now, AuditEntry(actor, "cancelled", request_id))
        queued = [
            notices.review_refresh(request_id),
            notices.tell_requester(request_id, req.requester, Event.CANCELLED),
            *await completion(tx, req),
        ]
        if req.reviewer is None:
            queued.append(notices.claim_refresh(request_id))
        queued += await refresh_homes(tx, {req.requester, *reviewers})
        await tx.outbox.enqueue_many(now, queued)
        cancelled = await tx.requests.get(request_id)
        assert cancelled is not None
        return cancelled

    return await deps.store.transact(cancel, receipt)

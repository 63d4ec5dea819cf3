"""Expiring a pending request, for each of the reasons one can expire: nobody decided within
REQUEST_TTL, the policy ended, or the pipeline that asked stopped waiting. Its requester is told
why, its reviewers' DMs lose their buttons, a Workflow step that asked ends, and the audit says
why. Nobody decided within REQUEST_TTL is swept a batch per transaction, like the policy's end.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.audit import AuditEntry
from bot.domain.durations import describe_duration
from bot.domain.errors import NotRequester, UnknownRequest
from bot.domain.models import ChangeRequest, FinalReason, Status, format_ref
from bot.domain.outbox import Event
from bot.services import notices, who_may_decide
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.services.workflow_step import completion
from bot.store.unit_of_work import Tx

BATCH = 50  # requests expired per transaction
_AUDIT_REASON = {
    FinalReason.NO_DECISION: "no_decision",
    FinalReason.POLICY_ENDED: "policy_ended",
    FinalReason.PIPELINE_GAVE_UP: "pipeline_gave_up",
}


async def expire(
    tx: Tx, request_id: int, now: datetime, final: FinalReason, reason: str, actor: str = "signoff"
) -> bool:
    """Expire ``request_id`` if it is still pending (False if it is not), with its messages;
    ``reason`` is what people read ("no decision within 7 days")."""
    req = await tx.requests.get_for_update(request_id)
    if req is None or req.status is not Status.PENDING:
        return False
    reviewers = await tx.assignments.active(request_id)  # before the outcome closes them
    await tx.requests.set_outcome(
        request_id, status=Status.EXPIRED, now=now, requested_at=req.created_at, final=final, reason=reason
    )
    await tx.audit.append(now, AuditEntry(actor, "expired", request_id, _AUDIT_REASON[final]))
    queued = [
        notices.tell_requester(request_id, req.requester, Event.EXPIRED),
        *await completion(tx, req),
        notices.review_refresh(request_id),
    ]
    if req.reviewer is None:
        queued.append(notices.claim_refresh(request_id))
    queued += await refresh_homes(tx, {req.requester, *reviewers})
    await tx.outbox.enqueue_many(now, queued)
    return True


async def expire_undecided(deps: Deps, ttl: timedelta) -> int:
    """Every pending request older than ``ttl`` expires: nobody decided in time. Returns how many."""
    now = deps.clock.now()
    reason = f"no decision within {describe_duration(ttl)}"
    expired = 0
    async with deps.store.read() as r:  # nearly always none: then no lock is taken at all
        if not await r.requests.pending_before(now - ttl, 1):
            return 0
    while True:

        async def batch(tx: Tx) -> int:
            await tx.requests.lock_all()
            done = 0
            for request_id in await tx.requests.pending_before(now - ttl, BATCH):
                done += await expire(tx, request_id, now, FinalReason.NO_DECISION, reason)
            return done

        done = await deps.store.transact(batch)
        expired += done
        if done < BATCH:
            return expired


async def give_up(deps: Deps, request_id: int, pipeline: str) -> ChangeRequest:
    """The pipeline that asked stopped waiting (`signoff request --wait` timed out): a request still
    pending expires, so nobody reviews a change that will not be applied. Only that pipeline may."""
    now = deps.clock.now()

    async def abandon(tx: Tx) -> ChangeRequest:
        req = await who_may_decide.load(tx, request_id)
        if req.source != "api" or req.pipeline != pipeline:
            refusal = NotRequester(f"Only the pipeline that asked for {req.ref} can stop waiting for it.")
            await tx.refuse(refusal, f"api:{pipeline}", request_id, "give_up", now)
        await expire(
            tx, request_id, now, FinalReason.PIPELINE_GAVE_UP, "the pipeline stopped waiting", actor=f"api:{pipeline}"
        )
        found = await tx.requests.get(request_id)
        if found is None:
            raise UnknownRequest(format_ref(request_id))
        return found

    return await deps.store.transact(abandon)

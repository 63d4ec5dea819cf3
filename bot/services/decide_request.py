"""Approve or deny. First decision wins; one denial ends the request.

Approvals are counted per distinct senior: a request that needs two stays pending after the
first, whose review is then done (no reminders, gone from their queue), until the second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain.audit import AuditEntry
from bot.domain.errors import AlreadyVoted, SignoffError
from bot.domain.models import ChangeRequest, FinalReason, Status
from bot.domain.outbox import Event
from bot.domain.validation import validate_reason
from bot.services import notices, who_may_decide
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.services.workflow_step import completion
from bot.store.unit_of_work import Tx


@dataclass(frozen=True)
class Decided:
    request: ChangeRequest
    final: bool  # False while more approvals are needed


async def can_decide(deps: Deps, request_id: int, actor: str, attempt: str = "deny") -> ChangeRequest:
    """Raise (and audit) if ``actor`` may not decide now; used before opening the denial form."""

    async def check(tx: Tx) -> ChangeRequest:
        req = await who_may_decide.load(tx, request_id)
        reviewers = await tx.assignments.active(request_id)
        refusal = who_may_decide.decide_refusal(req, reviewers, actor, deps.roster())
        if refusal is not None:
            await tx.refuse(refusal, actor, request_id, attempt, deps.clock.now())
        return req

    return await deps.store.transact(check)


async def approve(deps: Deps, request_id: int, actor: str, receipt: str | None = None) -> Decided:
    return await _decide(deps, request_id, actor, "approve", None, receipt)


async def deny(deps: Deps, request_id: int, actor: str, reason: str | None, receipt: str | None = None) -> Decided:
    return await _decide(deps, request_id, actor, "deny", validate_reason(reason), receipt)


async def _decide(
    deps: Deps, request_id: int, actor: str, decision: str, reason: str | None, receipt: str | None
) -> Decided:
    now = deps.clock.now()

    async def decide(tx: Tx) -> Decided:
        # Locked, then read: the approvals counted include every approval committed before ours.
        req = await who_may_decide.load(tx, request_id)
        # Read before the outcome closes them, with the actor's own decision, in one statement.
        reviewers, voted = await tx.assignments.active_and_decision_of(request_id, actor)
        refusal: SignoffError | None = who_may_decide.not_pending(req)
        if refusal is None and voted is not None:
            refusal = AlreadyVoted(
                f"You already approved {req.ref} ({req.progress}); it still needs another senior's approval."
            )
        refusal = refusal or who_may_decide.decide_refusal(req, reviewers, actor, deps.roster())
        if refusal is not None:
            await tx.refuse(refusal, actor, request_id, decision, now)
        await tx.decisions.record(request_id, actor, decision, reason, now)
        queued = []
        if decision == "deny":
            final, status = True, Status.DENIED
        else:
            req = replace(req, approvals=req.approvals + 1)
            final = req.approvals >= req.approvals_needed
            status = Status.APPROVED
        if final:
            won = await tx.requests.set_outcome(
                request_id,
                status=status,
                now=now,
                requested_at=req.created_at,
                final=FinalReason.DENIED if decision == "deny" else FinalReason.APPROVED,
                decided_by=actor,
                reason=reason,
            )
            assert won, "pending was checked in this transaction, with the request locked"
            queued.append(notices.tell_requester(request_id, req.requester, Event.DECIDED))
            queued += await completion(tx, req)
            req = replace(req, status=status, decided_by=actor, decided_at=now, reason=reason, updated_at=now)
        else:
            await tx.assignments.finish(request_id, actor)  # their part is done: no reminders, not in their queue
            tx.changed(request_id)
        await tx.audit.append(
            now,
            AuditEntry(
                actor=actor,
                action="decided" if final else "approval_recorded",
                request_id=request_id,
                reason=reason,
                details={"decision": decision, "approvals": req.approvals, "approvals_needed": req.approvals_needed},
            ),
        )
        queued.append(notices.review_refresh(request_id))
        queued += await refresh_homes(tx, {req.requester, *reviewers})
        await tx.outbox.enqueue_many(now, queued)
        return Decided(req, final)

    decided = await deps.store.transact(decide, receipt, routing=True)
    if decided.final:
        deps.metrics.decided(decided.request.status.value, decided.request.created_at, now)
    return decided

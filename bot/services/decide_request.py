"""Approve or deny. First decision wins; one denial ends the request.

Approvals are counted per distinct person, so a policy that needs two seniors only
has to raise ``approvals_needed``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain.errors import AlreadyVoted, SignoffError
from bot.domain.models import ChangeRequest, Status
from bot.domain.validation import validate_reason
from bot.services import guard, notices
from bot.services.deps import Deps
from bot.services.workflow_step import completion
from bot.store import audit, outbox
from bot.store import requests as store
from bot.store.audit import AuditEntry


@dataclass(frozen=True)
class Decided:
    request: ChangeRequest
    final: bool  # False while more approvals are needed


async def can_decide(deps: Deps, request_id: int, actor: str, attempt: str = "deny") -> ChangeRequest:
    """Raise (and audit) if ``actor`` may not decide now; used before opening the denial form."""
    refusal: SignoffError | None = None
    async with deps.db.transaction() as conn:
        req = await guard.load(conn, request_id)
        reviewers = await store.active_reviewers(conn, request_id)
        refusal = guard.decide_refusal(req, reviewers, actor, deps.roster())
        if refusal is not None:
            await guard.record_refusal(conn, deps.clock.now(), actor, request_id, attempt, refusal)
    if refusal is not None:
        raise refusal
    return req


async def approve(deps: Deps, request_id: int, actor: str, delivery: str | None = None) -> Decided:
    return await _decide(deps, request_id, actor, "approve", None, delivery)


async def deny(deps: Deps, request_id: int, actor: str, reason: str | None, delivery: str | None = None) -> Decided:
    return await _decide(deps, request_id, actor, "deny", validate_reason(reason), delivery)


async def _decide(
    deps: Deps, request_id: int, actor: str, decision: str, reason: str | None, delivery: str | None
) -> Decided:
    now = deps.clock.now()
    refusal: SignoffError | None = None
    final = False
    async with deps.db.transaction(delivery) as conn:
        req = await guard.load(conn, request_id)
        reviewers = await store.active_reviewers(conn, request_id)  # read before the outcome closes them
        refusal = guard.decide_refusal(req, reviewers, actor, deps.roster())
        if refusal is None and not await store.record_decision(conn, request_id, actor, decision, reason, now):
            refusal = AlreadyVoted(f"You already approved {req.ref}; it still needs another senior's approval.")
        if refusal is not None:
            await guard.record_refusal(conn, now, actor, request_id, decision, refusal)
        else:
            queued = []
            if decision == "deny":
                final = True
                status = Status.DENIED
            else:
                final = (
                    req.approvals_needed == 1 or await store.approval_count(conn, request_id) >= req.approvals_needed
                )
                status = Status.APPROVED
            if final:
                won = await store.set_outcome(conn, request_id, status=status, now=now, decided_by=actor, reason=reason)
                assert won, "pending was checked in this transaction"
                queued.append(notices.tell_requester(request_id, req.requester, notices.DECIDED))
                queued += await completion(conn, request_id)
                req = replace(req, status=status, decided_by=actor, decided_at=now, reason=reason, updated_at=now)
            await audit.append(
                conn,
                now,
                AuditEntry(
                    actor=actor,
                    action="decided" if final else "approval_recorded",
                    request_id=request_id,
                    reason=reason,
                    details={"decision": decision},
                ),
            )
            queued.append(notices.review_refresh(request_id))
            queued += [notices.home_refresh(user) for user in sorted({req.requester, *reviewers})]
            await outbox.enqueue_many(conn, now, queued)
    if refusal is not None:
        raise refusal
    deps.committed(request_id)
    return Decided(req, final)

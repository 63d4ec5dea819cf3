"""An eligible senior claims a request that routing could not assign."""

from __future__ import annotations

from bot.domain.audit import AuditEntry
from bot.domain.errors import AlreadyClaimed, NotEligible, SelfReview, SignoffError
from bot.domain.models import ChangeRequest
from bot.services import notices, who_may_decide
from bot.services.deps import Deps


async def claim_request(deps: Deps, request_id: int, actor: str, delivery: str | None = None) -> ChangeRequest:
    now = deps.clock.now()
    async with deps.store.write(delivery) as tx:
        req = await who_may_decide.load(tx, request_id)  # locked: two claims at once, one wins
        refusal: SignoffError | None = who_may_decide.not_pending(req)
        if refusal is None and req.reviewer is not None:
            refusal = AlreadyClaimed(f"{req.ref} is already being reviewed by <@{req.reviewer}>.")
        if refusal is None and req.is_party(actor):
            refusal = SelfReview(f"You are a party to {req.ref}, so you cannot review it.")
        if refusal is None and not deps.roster().is_senior(actor):
            refusal = NotEligible(f"Only senior, staff or principal engineers on the roster can claim {req.ref}.")
        if refusal is not None:
            await tx.refuse(refusal, actor, request_id, "claim", now)
        await tx.assignments.assign(request_id, actor, now, "claimed")
        await tx.audit.append(now, AuditEntry(actor, "claimed", request_id))
        await tx.outbox.enqueue_many(
            now,
            [
                notices.review_dm(request_id, actor),
                notices.claim_refresh(request_id),
                notices.tell_requester(request_id, req.requester, notices.WAITING),
                notices.home_refresh(actor),
                notices.home_refresh(req.requester),
            ],
        )
        claimed = await tx.requests.peek(request_id)
    assert claimed is not None
    return claimed

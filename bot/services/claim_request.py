"""An eligible senior claims a request (or a break-glass review) that routing could not fully assign."""

from __future__ import annotations

from bot.domain.audit import AuditEntry
from bot.domain.errors import AlreadyClaimed, NotEligible, SelfReview, SignoffError
from bot.domain.models import ChangeRequest
from bot.domain.outbox import Event
from bot.services import notices, who_may_decide
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.store.unit_of_work import Tx


async def claim_request(deps: Deps, request_id: int, actor: str, receipt: str | None = None) -> ChangeRequest:
    now = deps.clock.now()

    async def claim(tx: Tx) -> ChangeRequest:
        req = await who_may_decide.load(tx, request_id)  # locked: two claims at once, one wins
        active, voted = await tx.assignments.active_and_decision_of(request_id, actor)
        refusal: SignoffError | None = None if req.awaiting_review_after_the_fact else who_may_decide.not_pending(req)
        if refusal is None and (actor in active or voted):
            refusal = AlreadyClaimed(f"You are already a reviewer of {req.ref}.")
        if refusal is None and req.seats_open(len(active)) == 0:
            names = ", ".join(f"<@{r}>" for r in active) or "its reviewers"
            refusal = AlreadyClaimed(f"{req.ref} is already being reviewed by {names}.")
        if refusal is None and req.is_party(actor):
            refusal = SelfReview(f"You are a party to {req.ref}, so you cannot review it.")
        if refusal is None and not deps.roster().is_senior(actor):
            refusal = NotEligible(f"Only senior, staff or principal engineers on the roster can claim {req.ref}.")
        if refusal is not None:
            await tx.refuse(refusal, actor, request_id, "claim", now)
        await tx.assignments.assign(request_id, actor, now, "claimed")
        await tx.audit.append(now, AuditEntry(actor, "claimed", request_id))
        queued = [notices.review_dm(request_id, actor), notices.claim_refresh(request_id)]
        if not req.awaiting_review_after_the_fact:
            queued.append(notices.tell_requester(request_id, req.requester, Event.WAITING))
        queued += await refresh_homes(tx, [actor, req.requester])
        await tx.outbox.enqueue_many(now, queued)
        claimed = await tx.requests.get(request_id)
        assert claimed is not None
        return claimed

    return await deps.store.transact(claim, receipt, routing=True)

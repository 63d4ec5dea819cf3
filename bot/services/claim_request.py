"""An eligible senior claims a request that routing could not assign."""

from __future__ import annotations

from bot.domain.errors import AlreadyClaimed, NotEligible, SelfReview, SignoffError
from bot.domain.models import ChangeRequest
from bot.services import guard, notices
from bot.services.deps import Deps
from bot.store import audit, outbox
from bot.store import requests as store
from bot.store.audit import AuditEntry


async def claim_request(deps: Deps, request_id: int, actor: str, delivery: str | None = None) -> ChangeRequest:
    now = deps.clock.now()
    refusal: SignoffError | None = None
    async with deps.db.transaction(delivery) as conn:
        req = await guard.load(conn, request_id)
        refusal = guard.not_pending(req)
        if refusal is None and req.reviewer is not None:
            refusal = AlreadyClaimed(f"{req.ref} is already being reviewed by <@{req.reviewer}>.")
        if refusal is None and req.is_party(actor):
            refusal = SelfReview(f"You are a party to {req.ref}, so you cannot review it.")
        if refusal is None and not deps.roster().is_senior(actor):
            refusal = NotEligible(f"Only senior, staff or principal engineers on the roster can claim {req.ref}.")
        if refusal is not None:
            await guard.record_refusal(conn, now, actor, request_id, "claim", refusal)
        else:
            await store.assign(conn, request_id, actor, now, "claimed")
            await audit.append(conn, now, AuditEntry(actor, "claimed", request_id))
            await outbox.enqueue(conn, now, notices.review_dm(request_id, actor))
            await outbox.enqueue(conn, now, notices.claim_refresh(request_id))
            await outbox.enqueue(conn, now, notices.tell_requester(request_id, req.requester, notices.WAITING))
            await outbox.enqueue(conn, now, notices.home_refresh(actor))
            await outbox.enqueue(conn, now, notices.home_refresh(req.requester))
            req = await guard.load(conn, request_id)
    if refusal is not None:
        raise refusal
    deps.committed(request_id)
    return req

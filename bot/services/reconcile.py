"""The consistency check: states that must never exist, looked for at every review sweep and
repaired once each. A repair means a bug somewhere: it is an audit row (``repaired``, its kind
as the reason), an ERROR log line and a count in ``signoff_repairs_total{kind}``. Races, crashes
and replicas never need one; the tests expect none.

* ``approvals_met``: a pending request whose approvals reach its need is approved (by the last
  approver), as the approval that reached it should have done.
* ``denial_unapplied``: a pending request with a denial is denied.
* ``seats_unfilled``: an open request (or break-glass review) with fewer reviewers than it needs
  and no Claim post ever queued is routed again: to eligible seniors, else a Claim post.
* ``stale_claim``: an outbox row still claimed by a replica that is gone, ``STALE_AFTER`` after
  its claim ran out, is released for any worker (it stays marked as possibly delivered).

The reads run outside any write transaction; each repair takes its request's lock and checks
again, so a decision that lands in between is never repaired over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from bot.domain.audit import AuditEntry
from bot.domain.models import FinalReason, Status
from bot.domain.outbox import Event
from bot.services import notices
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.services.replicas import GONE_AFTER, this_process
from bot.services.routing_inputs import RoutingInputs
from bot.services.workflow_step import completion
from bot.store.unit_of_work import Tx

log = logging.getLogger(__name__)
LIMIT = 100  # repairs per sweep and kind; more wait for the next sweep
STALE_AFTER = timedelta(minutes=10)


@dataclass
class Repairs:
    done: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.done[kind] = self.done.get(kind, 0) + 1


async def reconcile(deps: Deps) -> Repairs:
    now = deps.clock.now()
    async with deps.store.read() as r:
        unapplied = await r.requests.decisions_unapplied(LIMIT)
        unfilled = await r.requests.seats_unfilled(LIMIT)
        stale = await r.outbox.stale_claims(now - STALE_AFTER, LIMIT)
        alive = {rep.id.rsplit(":", 1)[0] for rep in await r.replicas.alive(now - GONE_AFTER)}
    alive.add(this_process())  # the one checking is not gone, whatever its last heartbeat says
    repairs = Repairs()
    for request_id, kind in unapplied:
        if await deps.store.transact(partial(_apply_decisions, deps=deps, request_id=request_id)):
            _said(deps, repairs, kind, request_id)
    for request_id in unfilled:
        if await deps.store.transact(partial(_fill_seats, deps=deps, request_id=request_id)):
            _said(deps, repairs, "seats_unfilled", request_id)
    for row_id, owner in stale:
        if owner.rsplit(":", 1)[0] in alive:
            continue
        if await deps.store.transact(partial(_release, deps=deps, row_id=row_id, owner=owner)):
            _said(deps, repairs, "stale_claim", None, f"outbox row {row_id} claimed by {owner}")
    return repairs


def _said(deps: Deps, repairs: Repairs, kind: str, request_id: int | None, what: str = "") -> None:
    repairs.add(kind)
    deps.metrics.repairs.labels(kind=kind).inc()
    log.error("consistency check repaired %s (%s): a bug left it so", what or f"request {request_id}", kind)


async def _apply_decisions(tx: Tx, deps: Deps, request_id: int) -> bool:
    now = deps.clock.now()
    req = await tx.requests.get_for_update(request_id)
    if req is None or req.status is not Status.PENDING:
        return False
    denials = [who for who, what in await tx.decisions.all_of(request_id) if what == "deny"]
    approvers = await tx.decisions.approvers(request_id)
    if denials:
        status, by, kind = Status.DENIED, denials[0], "denial_unapplied"
        reason = await tx.decisions.reason_of(request_id, by)
    elif len(approvers) >= req.approvals_needed:
        status, by, kind, reason = Status.APPROVED, approvers[-1], "approvals_met", None
    else:
        return False
    reviewers = await tx.assignments.active(request_id)
    final = FinalReason.DENIED if status is Status.DENIED else FinalReason.APPROVED
    await tx.requests.set_outcome(
        request_id, status=status, now=now, requested_at=req.created_at, final=final, decided_by=by, reason=reason
    )
    details = {"status": status.value, "decided_by": by, "approvals": len(approvers)}
    await tx.audit.append(now, AuditEntry("signoff", "repaired", request_id, kind, details))
    queued = [
        notices.tell_requester(request_id, req.requester, Event.DECIDED),
        *await completion(tx, req),
        notices.review_refresh(request_id),
        *await refresh_homes(tx, {req.requester, *reviewers}),
    ]
    await tx.outbox.enqueue_many(now, queued)
    return True


async def _fill_seats(tx: Tx, deps: Deps, request_id: int) -> bool:
    now = deps.clock.now()
    await tx.requests.lock_all()
    req = await tx.requests.get_for_update(request_id)
    if req is None or not (req.status is Status.PENDING or req.awaiting_review_after_the_fact):
        return False
    active = await tx.assignments.active(request_id)
    seats = req.seats_open(len(active))
    if seats <= 0 or await tx.outbox.claim_post_queued(request_id):
        return False
    routing = await RoutingInputs.read(tx, deps.roster())
    decided = await tx.decisions.approvers(request_id)
    chosen = routing.choose(req.requester, req.draft.authors, seats, {*active, *decided})
    for reviewer in sorted(chosen):
        await tx.assignments.assign(request_id, reviewer, now, "reassigned")
    queued = [notices.review_dm(request_id, r) for r in chosen] + await refresh_homes(tx, chosen)
    if len(chosen) < seats:
        queued.append(notices.claim_post(request_id, deps.summary_channel))
    details = {"to": chosen, "claim_post": len(chosen) < seats}
    await tx.audit.append(now, AuditEntry("signoff", "repaired", request_id, "seats_unfilled", details))
    await tx.outbox.enqueue_many(now, queued)
    return True


async def _release(tx: Tx, deps: Deps, row_id: int, owner: str) -> bool:
    now = deps.clock.now()
    if not await tx.outbox.release(row_id, now):
        return False
    details = {"outbox_row": row_id, "claimed_by": owner}
    await tx.audit.append(now, AuditEntry("signoff", "repaired", None, "stale_claim", details))
    return True
